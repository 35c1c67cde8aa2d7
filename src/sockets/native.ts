import { Envelope, PING_FRAME, PONG_FRAME, parseUntrustedJson } from "../protocol";
import { frameOf } from "./encode";
import { frameTooLarge } from "./frames";
import type { Incoming, Transport } from "./transport";

/**
 * Our own protocol: one JSON frame `{"event","data"}` per event, both ways (docs/protocol.md). The
 * client's heartbeat is answered by the runtime; a command's answer is its events (no acknowledgement:
 * a stored message comes back as `booking-chat`).
 */
export const nativeTransport: Transport = {
  name: "native",
  autoResponse: [PING_FRAME, PONG_FRAME],
  logsInInBand: false,
  pong: null,
  goodbye: [],

  decode(raw: string | ArrayBuffer, maxFrameBytes: number): Incoming {
    if (typeof raw !== "string") return { kind: "invalid", reason: "Binary frames are not supported" };
    if (frameTooLarge(raw, maxFrameBytes)) return { kind: "invalid", reason: "Frame is too large" };
    const json = parseUntrustedJson(raw);
    if (!json.ok) return { kind: "invalid", reason: `Frame ${json.reason}` };
    const envelope = Envelope.safeParse(json.value);
    if (!envelope.success)
      return { kind: "invalid", reason: 'Frame must be {"event": string, "data": object}' };
    return { kind: "command", name: envelope.data.event, data: envelope.data.data };
  },

  event: frameOf,

  answer(outcome) {
    return outcome.reply.map((e) => frameOf(e.event, e.data));
  },
};
