import { decodePacket, type Packet as EnginePacket, encodePacket } from "engine.io-parser";
import { Decoder, Encoder, type Packet, PacketType } from "socket.io-parser";
import { hasIllFormedText, MAX_FRAME_BYTES, MAX_JSON_DEPTH, nestsDeeperThan } from "../protocol";
import { frameTooLarge } from "../sockets/frames";

/**
 * Socket.IO v4 (Engine.IO protocol 4) over a WebSocket, with the Socket.IO project's own parsers:
 * engine.io-parser for the transport packets, socket.io-parser for what the client sends. What we
 * send of our own JSON (messages, payloads the objects already encoded) is spliced into the text
 * packet unchanged instead of parsed and encoded again; test/unit/socket-io-codec.test.ts decodes
 * it with socket.io-parser to prove it is the same packet.
 */

export type Incoming =
  | { kind: "ping" | "pong" | "close" | "ignored" }
  | { kind: "connect"; nsp: string; auth: unknown }
  | { kind: "event"; nsp: string; name: string; args: unknown[]; ackId: number | undefined }
  | { kind: "disconnect" }
  | { kind: "invalid"; reason: string };

function engine(packet: EnginePacket): string {
  let out = "";
  // Text packets are encoded synchronously.
  encodePacket(packet, false, (encoded: unknown) => {
    out = String(encoded);
  });
  return out;
}

/** The Engine.IO handshake: the session id and the heartbeat the client must expect. */
export function openPacket(sid: string, ping: { intervalMs: number; timeoutMs: number }): string {
  const handshake = {
    sid,
    upgrades: [],
    pingInterval: ping.intervalMs,
    pingTimeout: ping.timeoutMs,
    maxPayload: MAX_FRAME_BYTES,
  };
  return engine({ type: "open", data: JSON.stringify(handshake) });
}

export const PING = engine({ type: "ping" });
export const PONG = engine({ type: "pong" });
/** What the runtime answers a client's pong with (a no-op), so pongs never wake the object. */
export const NOOP = engine({ type: "noop" });

const encoder = new Encoder();

function sio(packet: Packet): string {
  const [text] = encoder.encode(packet);
  return engine({ type: "message", data: String(text) });
}

export function connectOk(sid: string): string {
  return sio({ type: PacketType.CONNECT, nsp: "/", data: { sid } });
}

export function connectError(message: string): string {
  return sio({ type: PacketType.CONNECT_ERROR, nsp: "/", data: { message } });
}

export const SERVER_DISCONNECT = sio({ type: PacketType.DISCONNECT, nsp: "/" });

/** `socket.emit(name, data)` seen from the client, `data` already JSON. */
export function eventPacket(name: string, dataJson: string): string {
  return `42[${JSON.stringify(name)},${dataJson}]`;
}

/** The reply to `socket.emit(name, data, callback)`: the callback is called with `replyJson`. */
export function ackPacket(id: number, replyJson: string): string {
  return `43${id}[${replyJson}]`;
}

/** Namespaces and event names are echoed in errors at most this long. */
export const MAX_ECHO_CHARS = 64;

/**
 * Decodes one WebSocket frame; anything malformed, too big (in UTF-8 bytes) or too deep is
 * `invalid`, never thrown.
 */
export function decodeFrame(raw: string | ArrayBuffer, maxFrameBytes = MAX_FRAME_BYTES): Incoming {
  if (typeof raw !== "string") return { kind: "invalid", reason: "binary frames are not supported" };
  if (frameTooLarge(raw, maxFrameBytes)) return { kind: "invalid", reason: "frame is too large" };
  if (nestsDeeperThan(raw, MAX_JSON_DEPTH)) return { kind: "invalid", reason: "frame is nested too deeply" };
  let packet: EnginePacket;
  try {
    packet = decodePacket(raw);
  } catch {
    return { kind: "invalid", reason: "not an Engine.IO packet" };
  }
  if (packet.type === "ping") return { kind: "ping" };
  if (packet.type === "pong") return { kind: "pong" };
  if (packet.type === "close") return { kind: "close" };
  if (packet.type !== "message" || typeof packet.data !== "string") return { kind: "ignored" };
  const decoded: Packet[] = [];
  try {
    const decoder = new Decoder();
    decoder.on("decoded", (p: Packet) => decoded.push(p));
    decoder.add(packet.data);
  } catch {
    return { kind: "invalid", reason: "not a Socket.IO packet" };
  }
  const p = decoded[0];
  if (!p) return { kind: "invalid", reason: "binary packets are not supported" };
  if (hasIllFormedText(p.data)) return { kind: "invalid", reason: "text must be well-formed Unicode" };
  // socket.io-parser reads an ack id of any length as a number; past 2^53 it would not come back as sent.
  if (p.id !== undefined && !Number.isSafeInteger(p.id)) {
    return { kind: "invalid", reason: "ack ids are integers up to 2^53 - 1" };
  }
  if (p.type === PacketType.CONNECT) return { kind: "connect", nsp: p.nsp, auth: p.data };
  if (p.type === PacketType.DISCONNECT) return { kind: "disconnect" };
  if (p.type === PacketType.EVENT && Array.isArray(p.data) && typeof p.data[0] === "string") {
    const [name, ...args] = p.data as [string, ...unknown[]];
    return { kind: "event", nsp: p.nsp, name, args, ackId: p.id };
  }
  return { kind: "invalid", reason: "only events are accepted" };
}
