// The yardstick: a bare Durable Object per room that accepts hibernatable WebSockets and relays every
// frame, unparsed, to every socket in the room (the sender's copy is its acknowledgement). No auth, no
// validation, no storage: what the runtime does for a chat room with nothing of ours added.
import { DurableObject } from "cloudflare:workers";

export class EchoRoom extends DurableObject {
  async fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(_socket, frame) {
    for (const peer of this.ctx.getWebSockets()) peer.send(frame);
  }

  webSocketClose(socket, code) {
    socket.close(code === 1005 ? 1000 : code);
  }
}

export default {
  fetch(request, env) {
    const room = /^\/rooms\/([\w-]{1,64})\/ws$/.exec(new URL(request.url).pathname)?.[1];
    if (!room || request.headers.get("Upgrade") !== "websocket")
      return new Response("not found", { status: 404 });
    return env.ECHO_ROOM.get(env.ECHO_ROOM.idFromName(room)).fetch(request);
  },
};
