import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { clientEventData, inboxEventData } from "../../src/protocol";
import { compileAccepts } from "../../src/protocol/fast-check";
import { hasIllFormedText } from "../../src/protocol/json-safety";
import { parseCommand } from "../../src/sockets/command";
import { nativeTransport } from "../../src/sockets/native";

const SEED = 20_261_203;

/** Values each field of a command might carry, valid or not, as a client could send them. */
const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", "b-1", "b_1", "x".repeat(65), "x".repeat(129), "x".repeat(513), "\ud800", "a\udc00"),
  fc.integer(),
  fc.constantFrom(0, -1, 1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, -0),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const metadata = fc.oneof(
  fc.dictionary(fc.string({ unit: "binary", maxLength: 70 }), fc.jsonValue({ maxDepth: 18 }), { maxKeys: 6 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const FIELDS = [
  "bookingId",
  "chatToken",
  "message",
  "clientMessageId",
  "metadata",
  "seq",
  "sinceSeq",
  "isTyping",
];
/** Objects made of the commands' own field names (some missing, some extra), and anything at all. */
const candidate = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS, "extra", "__proto__"), fc.oneof(scalar, metadata), { maxKeys: 6 }),
  fc.record(
    {
      bookingId: fc.oneof(fc.constantFrom("booking-1", "b:2@x.y"), scalar),
      chatToken: fc.oneof(fc.constant("booking-1_customer_abc"), scalar),
      message: fc.oneof(fc.string({ unit: "grapheme", maxLength: 40 }), scalar),
      clientMessageId: scalar,
      metadata,
      seq: scalar,
      sinceSeq: scalar,
      isTyping: scalar,
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);

const id = fc.stringMatching(/^[A-Za-z0-9\-.:@]{1,40}$/);
const optionalFields = {
  clientMessageId: fc.string({ minLength: 1, maxLength: 64 }),
  metadata: fc.dictionary(fc.string({ maxLength: 64 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 }),
};
/** A valid value of each command, as a well-behaved client sends it. */
const VALID = {
  "join-booking": fc.record(
    { bookingId: id, chatToken: fc.string({ minLength: 1, maxLength: 40 }), sinceSeq: fc.nat() },
    { requiredKeys: ["bookingId"] },
  ),
  "booking-chat": fc.record(
    {
      bookingId: id,
      chatToken: fc.string({ minLength: 1, maxLength: 40 }),
      message: fc.string({ unit: "grapheme", maxLength: 60 }),
      ...optionalFields,
    },
    { requiredKeys: ["bookingId", "chatToken", "message"] },
  ),
  "mark-read": fc.record({ bookingId: id, seq: fc.integer({ min: 1 }) }),
  typing: fc.record({ bookingId: id, isTyping: fc.boolean() }),
  "support-chat": fc.record(
    { message: fc.string({ unit: "grapheme", maxLength: 60 }), ...optionalFields },
    { requiredKeys: ["message"] },
  ),
} as const;

/** A valid value with one thing wrong, or not: a field replaced, dropped, or one too many. */
function nearly(valid: fc.Arbitrary<Record<string, unknown>>) {
  return fc
    .tuple(valid, fc.nat(8), fc.constantFrom(...FIELDS, "extra"), fc.oneof(scalar, metadata))
    .map(([value, how, key, other]) => {
      const copy: Record<string, unknown> = { ...value };
      if (how === 0) copy[key] = other;
      else if (how === 1) delete copy[Object.keys(copy)[0] ?? ""];
      else if (how === 2) copy.extra = other;
      return copy;
    });
}

const schemas = { ...clientEventData, ...inboxEventData };

describe("the one-pass command checks", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`agree with the zod schema of ${name} on a generated corpus`, () => {
      const accepts = compileAccepts(schema);
      let accepted = 0;
      fc.assert(
        fc.property(fc.oneof(candidate, nearly(VALID[name as keyof typeof VALID])), (value) => {
          const parsed = z.safeParse(schema, value);
          const zodAccepts = parsed.success && !hasIllFormedText(value);
          expect(accepts(value)).toBe(zodAccepts);
          if (zodAccepts) accepted++;
          // What they accept goes on as sent: zod's output is the value itself.
          if (zodAccepts) expect(parsed.data).toEqual(value);
        }),
        { seed: SEED, numRuns: 3_000 },
      );
      // The corpus reaches both answers, not only refusals.
      expect(accepted).toBeGreaterThan(300);
    });
  }

  it("decode frames exactly as the full path does (same command, or the same refusal)", () => {
    const byName = new Map(Object.entries(clientEventData).map(([n, s]) => [n, compileAccepts(s)] as const));
    const frame = fc.oneof(
      fc
        .record({
          event: fc.constantFrom(...Object.keys(clientEventData), "nope", ""),
          data: fc.oneof(candidate, nearly(VALID["booking-chat"]), nearly(VALID.typing)),
        })
        .map((f) => JSON.stringify(f)),
      fc.string({ unit: "binary", maxLength: 60 }),
    );
    const decoded = (raw: string, fast: boolean) => {
      const incoming = nativeTransport.decode(raw, 16_384, fast ? (n) => byName.get(n) : undefined);
      if (incoming.kind !== "command") return incoming;
      if (incoming.checked) return { event: incoming.name, data: incoming.data };
      return parseCommand(clientEventData, incoming.name, incoming.data, "");
    };
    fc.assert(
      fc.property(frame, (raw) => {
        expect(decoded(raw, true)).toEqual(decoded(raw, false));
      }),
      { seed: SEED, numRuns: 3_000 },
    );
  });
});
