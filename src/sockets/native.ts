import { Envelope, PING_FRAME, PONG_FRAME, parseUntrustedJson } from "../protocol";
import { frameOf } from "./encode";
import { frameTooLarge } from "./frames";
import type { CommandChecks, Incoming, Transport } from "./transport";

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

  decode(raw: string | ArrayBuffer, maxFrameBytes: number, accepts?: CommandChecks): Incoming {
    if (typeof raw !== "string") return { kind: "invalid", reason: "Binary frames are not supported" };
    if (frameTooLarge(raw, maxFrameBytes)) return { kind: "invalid", reason: "Frame is too large" };
    const checked = accepts ? acceptedAtOnce(raw, accepts) : null;
    if (checked) return checked;
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

/**
 * The frames every message sends, in one pass: parsed once, and accepted only when the envelope is
 * exactly `{event, data}` and the command's check (derived from its schema) passes. Anything else
 * (bad JSON, another shape, a refusal to explain) takes the full path above, which decides.
 */
function acceptedAtOnce(raw: string, accepts: CommandChecks): Incoming | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const frame = value as Record<string, unknown>;
  if (Object.keys(frame).length !== 2 || !Object.hasOwn(frame, "event") || !Object.hasOwn(frame, "data"))
    return null;
  const { event, data } = frame;
  if (typeof event !== "string" || event.length === 0 || event.length > 64) return null;
  const accepted = accepts(event);
  if (!accepted?.(data)) return null;
  return { kind: "command", name: event, data, checked: true };
}
