// The yardsticks. EchoRoom: a bare Durable Object per room that accepts hibernatable WebSockets and
// relays every frame, unparsed, to every socket in the room (the sender's copy is its acknowledgement).
// No auth, no validation, no storage: what the runtime does for a chat room with nothing of ours added.
// DurableEchoRoom: the same, but each frame is first written to the object's SQLite, so the relay
// waits for the commit as ours does: what storing every message before anyone sees it costs by itself.
// The harness can add a third, silent socket per room (a watcher), so the relay sends three frames per
// message as ours does (two parties and the admin feed).
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

export class DurableEchoRoom extends EchoRoom {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  webSocketMessage(socket, frame) {
    this.ctx.storage.sql.exec("INSERT INTO frames (body) VALUES (?)", frame);
    super.webSocketMessage(socket, frame);
  }
}

const ROOMS = { rooms: "ECHO_ROOM", "durable-rooms": "DURABLE_ECHO_ROOM" };

export default {
  fetch(request, env) {
    const [, kind, room] = /^\/([\w-]+)\/([\w-]{1,64})\/ws$/.exec(new URL(request.url).pathname) ?? [];
    const binding = Object.hasOwn(ROOMS, kind) ? env[ROOMS[kind]] : undefined;
    if (!binding || request.headers.get("Upgrade") !== "websocket")
      return new Response("not found", { status: 404 });
    return binding.get(binding.idFromName(room)).fetch(request);
  },
};
