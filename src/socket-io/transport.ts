import type { Incoming, Transport } from "../sockets/transport";
import { ackPacket, decodeFrame, eventPacket, NOOP, PONG, SERVER_DISCONNECT } from "./codec";

/**
 * Socket.IO v4 over Engine.IO 4, as the seed's apps speak it: a command is an event packet on the
 * `/` namespace (its acknowledgement id kept), a server event is an event packet, and a command's
 * answer is its events followed by its acknowledgement. The client logs in on the socket (CONNECT).
 * The server pings (socket-io/heartbeat.ts); the runtime answers the client's pongs with a no-op.
 */
export const socketIoTransport: Transport = {
  name: "socket.io",
  autoResponse: [PONG, NOOP],
  logsInInBand: true,
  pong: PONG,
  goodbye: [SERVER_DISCONNECT],

  decode(raw: string | ArrayBuffer, maxFrameBytes: number): Incoming {
    const packet = decodeFrame(raw, maxFrameBytes);
    switch (packet.kind) {
      case "ping":
        return { kind: "ping" };
      case "close":
      case "disconnect":
        return { kind: "disconnect" };
      case "connect":
        return { kind: "login", nsp: packet.nsp, auth: packet.auth };
      case "invalid":
        return { kind: "invalid", reason: packet.reason };
      case "event":
        if (packet.nsp !== "/") {
          return { kind: "invalid", reason: 'Only the "/" namespace is served', ackId: packet.ackId };
        }
        return { kind: "command", name: packet.name, data: packet.args[0], ackId: packet.ackId };
      default:
        return { kind: "ignored" };
    }
  },

  event: eventPacket,

  answer(outcome, ackId) {
    const frames = outcome.reply.map((e) => eventPacket(e.event, e.data));
    if (ackId !== undefined) frames.push(ackPacket(ackId, outcome.ack));
    return frames;
  },
};
