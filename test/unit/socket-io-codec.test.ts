import { decodePacket } from "engine.io-parser";
import { Decoder, type Packet, PacketType } from "socket.io-parser";
import { describe, expect, it } from "vitest";
import {
  ackPacket,
  connectError,
  connectOk,
  decodeFrame,
  eventPacket,
  NOOP,
  openPacket,
  PING,
  PONG,
} from "../../src/socket-io/codec";

/** What socket.io-client's own parsers make of a frame we send. */
function asClientSees(frame: string): Packet {
  const engine = decodePacket(frame);
  expect(engine.type).toBe("message");
  const out: Packet[] = [];
  const decoder = new Decoder();
  decoder.on("decoded", (p: Packet) => out.push(p));
  decoder.add(String(engine.data));
  const packet = out[0];
  if (!packet) throw new Error("nothing decoded");
  return packet;
}

describe("the Socket.IO codec", () => {
  it("speaks Engine.IO 4: handshake, ping, pong, no-op", () => {
    const open = decodePacket(openPacket("abc", { intervalMs: 25_000, timeoutMs: 20_000 }));
    expect(open.type).toBe("open");
    expect(JSON.parse(String(open.data))).toMatchObject({ sid: "abc", upgrades: [], pingInterval: 25_000 });
    expect([PING, PONG, NOOP].map((p) => decodePacket(p).type)).toEqual(["ping", "pong", "noop"]);
  });

  it("writes packets socket.io-parser reads back as the same packets, our own JSON spliced in unchanged", () => {
    const message = { seq: 3, content: 'He said "hi" 🙂', metadata: { __proto__x: [1, { a: null }] } };
    expect(asClientSees(eventPacket("booking-chat", JSON.stringify(message)))).toEqual({
      type: PacketType.EVENT,
      nsp: "/",
      data: ["booking-chat", message],
    });
    expect(asClientSees(ackPacket(12, JSON.stringify({ error: { code: "x" } })))).toEqual({
      type: PacketType.ACK,
      nsp: "/",
      id: 12,
      data: [{ error: { code: "x" } }],
    });
    expect(asClientSees(connectOk("s1"))).toMatchObject({ type: PacketType.CONNECT, data: { sid: "s1" } });
    expect(asClientSees(connectError("no"))).toMatchObject({
      type: PacketType.CONNECT_ERROR,
      data: { message: "no" },
    });
  });

  it("reads what socket.io-client sends, and refuses the rest without throwing", () => {
    expect(decodeFrame('40{"token":"t"}')).toEqual({ kind: "connect", nsp: "/", auth: { token: "t" } });
    expect(decodeFrame('4217["booking-chat",{"message":"hi"}]')).toEqual({
      kind: "event",
      nsp: "/",
      name: "booking-chat",
      args: [{ message: "hi" }],
      ackId: 17,
    });
    expect(decodeFrame("3")).toEqual({ kind: "pong" });
    expect(decodeFrame("41")).toEqual({ kind: "disconnect" });
    for (const bad of [
      "",
      "9",
      "42{",
      '42["x",{"a":"\\ud800"}]',
      `42["x",${"[".repeat(100)}${"]".repeat(100)}]`,
      "42[1]",
      // An ack id past 2^53 would be answered as 4.3e+23.
      '42431234567890123456789012["x",{}]',
    ]) {
      expect(decodeFrame(bad).kind, bad).toMatch(/invalid|ignored/);
    }
    expect(decodeFrame(new ArrayBuffer(3)).kind).toBe("invalid");
  });
});
