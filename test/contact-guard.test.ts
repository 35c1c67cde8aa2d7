import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ContactMatch, findContacts, MASK, maskContacts } from "../src/moderation/contact-guard";
import { applyContactPolicy } from "../src/moderation/contact-policy";
import { CONTACTS, type ContactSample, INNOCENT } from "./fixtures/contact-corpus";

/** Fixed, so a failure reproduces; fast-check shrinks it to a minimal input first. */
const SEED = 20_261_203;

const kindsIn = (text: string) => [...new Set(findContacts(text).map((m) => m.kind))].sort();

/** Found with the expected kinds, and nothing of the contact left once masked. */
function caught({ text, kinds, secrets }: ContactSample): boolean {
  const masked = maskContacts(text);
  const sameKinds = kindsIn(text).join() === [...new Set(kinds)].sort().join();
  return sameKinds && secrets.every((s) => !masked.includes(s));
}

function expectWellFormed(text: string, matches: ContactMatch[]): void {
  let previousEnd = 0;
  for (const m of matches) {
    expect(m.start).toBeGreaterThanOrEqual(previousEnd);
    expect(m.end).toBeGreaterThan(m.start);
    expect(m.end).toBeLessThanOrEqual(text.length);
    previousEnd = m.end;
  }
}

const detected = CONTACTS.filter(caught).length;
const flagged = INNOCENT.filter((text) => findContacts(text).length > 0).length;

describe("the contact guard", () => {
  describe("finds contact details in the formats people type", () => {
    it.each(CONTACTS)("$text", (sample) => {
      expect(kindsIn(sample.text)).toEqual([...new Set(sample.kinds)].sort());
      const masked = maskContacts(sample.text);
      expect(masked).toContain(MASK);
      for (const secret of sample.secrets) expect(masked).not.toContain(secret);
    });
  });

  describe("leaves ordinary job talk about prices, times, dates, addresses and sizes alone", () => {
    it.each(INNOCENT)("%s", (text) => {
      expect(findContacts(text)).toEqual([]);
      expect(maskContacts(text)).toBe(text);
    });
  });

  it(`catches ${detected} of ${CONTACTS.length} contact messages and flags ${flagged} of ${INNOCENT.length} innocent ones`, () => {
    expect(detected / CONTACTS.length).toBe(1);
    expect(flagged / INNOCENT.length).toBe(0);
  });

  it("masks each detail in place and keeps the words around it", () => {
    const text = "Call 555 123 4567 or email john@gmail.com, see www.fixit.co.za";
    expect(maskContacts(text)).toBe("Call [hidden] or email [hidden], see [hidden]");
    expect(findContacts(text).map((m) => [m.kind, text.slice(m.start, m.end)])).toEqual([
      ["phone", "555 123 4567"],
      ["email", "john@gmail.com"],
      ["url", "www.fixit.co.za"],
    ]);
  });

  it("hides a messenger's name and the handle given after it, not the words that invite", () => {
    expect(maskContacts("add me on telegram @jd")).toBe("add me on [hidden]");
    expect(maskContacts("IG: johnny.b, thanks")).toBe("[hidden], thanks");
    expect(maskContacts("whatsapp me")).toBe("[hidden] me");
  });

  it("uses the matches it is given, and joins overlapping ones instead of masking twice", () => {
    expect(maskContacts("abcdef", [])).toBe("abcdef");
    const overlapping: ContactMatch[] = [
      { kind: "url", start: 3, end: 5 },
      { kind: "phone", start: 1, end: 4 },
    ];
    expect(maskContacts("abcdef", overlapping)).toBe(`a${MASK}f`);
  });

  describe("finishes quickly on pathological input (the test timeout is the guard)", () => {
    const pathological: Record<string, string> = {
      '"1 " x2000': "1 ".repeat(2000),
      '"a@" x2000': "a@".repeat(2000),
      '"a." x2000': "a.".repeat(2000),
      '"at dot " x600': "at dot ".repeat(600),
      "4000 digits": "7".repeat(4000),
      '"a-" x2000': "a-".repeat(2000),
      '"@a " x1333': "@a ".repeat(1333),
      '"five " x800': "five ".repeat(800),
      '"(at)" x1000': "(at)".repeat(1000),
      '"x.com/" x666': "x.com/".repeat(666),
      '"a dot " x666': "a dot ".repeat(666),
      '"whatsapp @a " x333': "whatsapp @a ".repeat(333),
      '"9O" x2000': "9O".repeat(2000),
      "digits between zero-width spaces": "5\u200b".repeat(2000),
      "a long local part": `${"a.".repeat(1990)}@gmail.com`,
      "4000 letters": "a".repeat(4000),
    };
    it.each(Object.entries(pathological))("%s", (_, text) => {
      const matches = findContacts(text);
      expectWellFormed(text, matches);
      expect(maskContacts(text, matches).length).toBeLessThanOrEqual(
        text.length + MASK.length * matches.length,
      );
    });
  });

  describe("for any text", () => {
    const piece = fc.constantFrom(
      ..."5 55 555 0 00 + ( ) - . / , : @ # $ _ \u200b 🙂 at dot com gmail john five oh double whatsapp insta is my on me".split(
        " ",
      ),
      " ",
      "  ",
      "12/05/2026",
      "www.",
      "https://",
    );
    const text = fc.oneof(
      fc.array(piece, { maxLength: 60 }).map((pieces) => pieces.join("")),
      fc.string({ unit: "binary", maxLength: 120 }),
    );

    it("reports matches sorted, apart and within the text", () => {
      fc.assert(
        fc.property(text, (s) => expectWellFormed(s, findContacts(s))),
        { seed: SEED, numRuns: 1000 },
      );
    });

    it("masks exactly the matches, leaving every other character where it was", () => {
      fc.assert(
        fc.property(text, (s) => {
          const matches = findContacts(s);
          let expected = "";
          let from = 0;
          for (const m of matches) {
            expected += s.slice(from, m.start) + MASK;
            from = m.end;
          }
          expect(maskContacts(s)).toBe(expected + s.slice(from));
          if (matches.length === 0) expect(maskContacts(s)).toBe(s);
        }),
        { seed: SEED, numRuns: 1000 },
      );
    });
  });

  // What the guard does not do, pinned so a change in it is a change in docs/protocol.md too.
  describe("documented limits", () => {
    it.each([
      ["a phone number introduced as a reference", "order number 555 123 4567"],
      ["letters standing for digits", "call 555-CALL-JOE"],
      ["number words above nine", "five hundred fifty-five, one twenty-three, forty-five sixty-seven"],
      ["digit words in other languages", "cinco cinco cinco uno dos tres cuatro"],
      ["a messenger's name spelled out or disguised", "w h a t s a p p me, or wh@tsapp"],
      ["an @name with no messenger named near it", "thanks @thabo, great job"],
    ])("misses %s", (_, text) => {
      expect(findContacts(text)).toEqual([]);
    });

    it("keeps a handle that is not tied to the messenger's name", () => {
      expect(maskContacts("add me on snap, username joefix")).toBe("add me on [hidden], username joefix");
    });

    it.each([
      [
        "any mention of a messenger used only to talk elsewhere",
        "please use the chat here, no whatsapp",
        "handle",
      ],
      ["a list of numbers separated only by spaces", "sizes 10 12 14 16", "phone"],
      ["a date written with spaces", "starts 12 05 2026", "phone"],
      ["a long decimal", "a ratio of 3.14159265", "phone"],
      ["identity and account numbers (off-platform payment leaks the same way)", "ID 8001015009087", "phone"],
      ["the spoken words dot com", "the dot com era", "url"],
      ["links to harmless sites", "I ordered the tap from takealot.com", "url"],
    ])("flags %s", (_, text, kind) => {
      expect(kindsIn(text)).toEqual([kind]);
    });
  });
});

describe("the contact policies over the corpus", () => {
  it("off records nothing; flag records the kinds and leaves the text; mask also hides every contact", () => {
    for (const sample of CONTACTS) {
      expect(applyContactPolicy(sample.text, "off")).toEqual({ contacts: null, maskedContent: null });
      const flagged = applyContactPolicy(sample.text, "flag");
      expect(flagged.maskedContent).toBeNull();
      expect([...(flagged.contacts ?? [])].sort()).toEqual([...new Set(sample.kinds)].sort());
      const masked = applyContactPolicy(sample.text, "mask");
      expect(masked.contacts).toEqual(flagged.contacts);
      expect(masked.maskedContent).toContain(MASK);
      for (const secret of sample.secrets) expect(masked.maskedContent).not.toContain(secret);
    }
  });

  it("records nothing for any innocent message under any policy", () => {
    for (const text of INNOCENT) {
      for (const policy of ["off", "flag", "mask"] as const) {
        expect(applyContactPolicy(text, policy), `${policy}: ${text}`).toEqual({
          contacts: null,
          maskedContent: null,
        });
      }
    }
  });
});
