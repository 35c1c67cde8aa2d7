/** Phone numbers, written with digits or spelled out, told apart from amounts, references and dates. */

import type { ContactMatch } from "./contact-guard";
import { isWord, set, skipSpace, type Token } from "./tokens";

const SPELLED = "zero one two three four five six seven eight nine oh".split(" ");
// "double zero" is two digits: "double" adds one to the digit after it.
const DIGIT_WORDS = new Map<string, number>([
  ...[...SPELLED, "o", "nought"].map((w) => [w, 1] as const),
  ["double", 1],
  ["triple", 2],
]);
const SEPARATORS = set(". - ‐ ‑ – — / ( ) [ ] + ,");
const DASHES = set("- ‐ ‑ – —");
const MIN_DIGITS = 7;
/** Words that say a number is a reference, not a way to reach someone ("order 4411 8093"). */
const REFERENCE_WORDS = set(
  "order booking ref reference invoice inv receipt ticket job quote quotation tracking serial sn model part sku policy claim meter reading code pin otp vin case transaction txn confirmation voucher",
);
const NUMBER_WORDS = set("no nr number num nos");
const CURRENCY_BEFORE = set("usd eur gbp zar ngn kes ksh inr r rs");
const AMOUNT_AFTER = set(
  "dollars dollar usd eur euro euros gbp pounds pound rand zar naira ngn kes ksh shillings inr rupees bucks cents kwh kw w v l litres liters ml m mm cm km m2 sqm sq ft kg lbs gallons gal psi bar amps",
);

/** "fivefivefive" is three digits; the spellings are prefix-free, so the first fit is the only one. */
function spelledRun(word: string): number {
  let count = 0;
  for (let at = 0; at < word.length; count++) {
    const next = SPELLED.find((w) => word.startsWith(w, at));
    if (!next) return 0;
    at += next.length;
  }
  return count;
}

function wordDigits(t: Token[], i: number): number {
  const low = t[i]?.low ?? "";
  const known = DIGIT_WORDS.get(low) ?? spelledRun(low);
  if (known) return known;
  // "9OO123": letter O standing for zero, only when glued to digits.
  const gluedToDigits = t[i - 1]?.kind === "num" || t[i + 1]?.kind === "num";
  return gluedToDigits && /^o+$/.test(low) ? low.length : 0;
}

/** How many digits token i stands for in a phone number, 0 when it is none. */
function digitCount(t: Token[], i: number): number {
  const tk = t[i];
  if (tk?.kind === "word") return wordDigits(t, i);
  if (tk?.kind !== "num") return 0;
  // "3pm", "4B", "12x14", "2nd": a number glued to letters is a quantity or a code, unless the
  // letters are digits too ("5five5").
  const letters = (j: number) => t[j]?.kind === "word" && wordDigits(t, j) === 0;
  return letters(i - 1) || letters(i + 1) ? 0 : [...tk.text].length;
}

type Group = { tok: number; digits: number; value: string | null };
/** Digit groups joined by short separators; `seps[k]` (its marks, spaces dropped) joins k and k+1. */
type Run = { groups: Group[]; seps: string[] };

function phoneRuns(t: Token[]): Run[] {
  const runs: Run[] = [];
  const group = (i: number, digits: number): Group => ({
    tok: i,
    digits,
    value: t[i]?.kind === "num" ? (t[i]?.text ?? null) : null,
  });
  for (let i = 0; i < t.length; i++) {
    const first = digitCount(t, i);
    if (first === 0) continue;
    const run: Run = { groups: [group(i, first)], seps: [] };
    for (;;) {
      let j = i + 1;
      let sep = "";
      let width = 0;
      for (let tk = t[j]; tk && width <= 4; tk = t[++j]) {
        if (tk.kind !== "space" && !(tk.kind === "punct" && SEPARATORS.has(tk.text))) break;
        width += tk.end - tk.start;
        if (tk.kind === "punct") sep += tk.text;
      }
      const digits = width <= 4 ? digitCount(t, j) : 0;
      // A comma splits amounts ("1,250"); only spelled digits may be listed with commas.
      if (digits === 0 || (sep.includes(",") && !(t[i]?.kind === "word" && t[j]?.kind === "word"))) break;
      run.seps.push(sep);
      run.groups.push(group(j, digits));
      i = j;
    }
    runs.push(run);
  }
  return runs;
}

/** A reference ("order 4411 8093", "booking #…", "INV-2026-00421"), so no phone number. */
function isReference(t: Token[], first: number): boolean {
  let j = first - 1;
  for (let hops = 0; j >= 0 && hops < 6; hops++, j--) {
    const tk = t[j];
    if (tk?.text === "#") return true;
    const skippable = tk?.kind === "space" || (tk?.kind === "punct" && ":.-/".includes(tk.text));
    if (!skippable && !isWord(tk, NUMBER_WORDS)) break;
  }
  const word = t[j];
  if (word?.kind !== "word") return false;
  if (REFERENCE_WORDS.has(word.low)) return true;
  const glue = t[first - 1]?.text ?? "";
  return j === first - 2 && "-/".includes(glue) && word.text === word.text.toUpperCase();
}

function isAmount(t: Token[], first: number, last: number): boolean {
  const before = t[skipSpace(t, first - 1, -1)];
  const after = t[skipSpace(t, last + 1, 1)];
  const symbol = (tk: Token | undefined) => tk?.kind === "punct" && /\p{Sc}/u.test(tk.text);
  return symbol(before) || symbol(after) || isWord(before, CURRENCY_BEFORE) || isWord(after, AMOUNT_AFTER);
}

/** "1 500 000", "12.500.000", "12 345.67": thousands in groups of three, maybe with cents. */
function isThousands(values: string[], seps: string[]): boolean {
  let n = values.length;
  if (n >= 3 && seps[0] === "" && seps[n - 2] === "." && values[n - 1]?.length === 2) n--;
  const [first = ""] = values;
  const groupsOfThree = values.slice(1, n).every((v) => v.length === 3);
  const oneSeparator =
    seps.slice(0, n - 1).every((s) => s === seps[0]) && (seps[0] === "" || seps[0] === ".");
  // A leading group of three would also be a Spanish mobile ("612 345 678").
  return n >= 2 && first.length <= 2 && first[0] !== "0" && groupsOfThree && oneSeparator;
}

/** Shapes of digits-only runs that are numbers, not phone numbers. */
function isNumberShape(run: Run, plus: boolean): boolean {
  if (run.groups.some((g) => g.value === null)) return false;
  const values = run.groups.map((g) => g.value ?? "");
  const { seps } = run;
  if (!plus && isThousands(values, seps)) return true;
  // A range: "15000-20000", "2025-2026" (like numbers, rising), "1 200 - 1 500".
  const dash = seps.findIndex((s) => DASHES.has(s));
  if (dash >= 0 && seps.filter((s) => DASHES.has(s)).length === 1) {
    const [low, high] = [values.slice(0, dash + 1), values.slice(dash + 1)];
    const [a = "", b = ""] = [low[0], high[0]];
    if (low.length === 1 && high.length === 1)
      return a.length === b.length && a[0] !== "0" && Number(b) > Number(a);
    return isThousands(low, seps.slice(0, dash)) && isThousands(high, seps.slice(dash + 1));
  }
  // An IPv4 address.
  return values.length === 4 && seps.every((s) => s === ".") && values.every((v) => Number(v) <= 255);
}

const inRange = (v: string | null, lo: number, hi: number) =>
  v !== null && v.length <= 2 && +v >= lo && +v <= hi;

/** Groups k..k+2 are a date: one separator, and the day and month are possible ("12.05.2026"). */
function isDate(run: Run, k: number): boolean {
  const sep = run.seps[k] ?? "";
  if (![".", "/", "-"].includes(sep) || run.seps[k + 1] !== sep) return false;
  if (run.seps[k - 1] === sep || run.seps[k + 2] === sep) return false;
  const [a, b, c] = run.groups.slice(k, k + 3).map((g) => g.value);
  const year = (v: string | null | undefined) => v?.length === 2 || (v?.length === 4 && /^(19|20)/.test(v));
  if (a?.length === 4) return year(a) && inRange(b ?? null, 1, 12) && inRange(c ?? null, 1, 31);
  const dayMonth =
    (inRange(a ?? null, 1, 31) && inRange(b ?? null, 1, 12)) ||
    (inRange(a ?? null, 1, 12) && inRange(b ?? null, 1, 31));
  return dayMonth && year(c);
}

/** Groups k, k+1 are a time written with a dot ("14.30"), not part of a longer dotted number. */
function isTime(run: Run, k: number): boolean {
  const [h, m] = [run.groups[k]?.value ?? null, run.groups[k + 1]?.value ?? null];
  const alone = run.seps[k - 1] !== "." && run.seps[k + 1] !== ".";
  return run.seps[k] === "." && alone && inRange(h, 0, 24) && m?.length === 2 && inRange(m, 0, 59);
}

/** The phone numbers among the tokens. */
export function phoneMatches(t: Token[]): ContactMatch[] {
  const found: ContactMatch[] = [];
  for (const run of phoneRuns(t)) {
    const { groups } = run;
    const first = groups[0]?.tok ?? 0;
    const last = groups.at(-1)?.tok ?? 0;
    if (groups.reduce((n, g) => n + g.digits, 0) < MIN_DIGITS) continue;
    if (isReference(t, first) || isAmount(t, first, last) || isNumberShape(run, t[first - 1]?.text === "+"))
      continue;
    // Dates and times split a run; what is left on either side may still be a number.
    const cut = groups.map(() => false);
    for (let k = 0; k < groups.length; k++) {
      if (k + 2 < groups.length && isDate(run, k)) cut.fill(true, k, k + 3);
      if (k + 1 < groups.length && isTime(run, k)) cut.fill(true, k, k + 2);
    }
    let segment: Group[] = [];
    for (let k = 0; k <= groups.length; k++) {
      const g = groups[k];
      if (g && !cut[k]) {
        segment.push(g);
        continue;
      }
      const head = segment[0];
      const tail = segment.at(-1);
      if (head && tail && segment.reduce((n, s) => n + s.digits, 0) >= MIN_DIGITS) {
        // Take in a leading "+" or "(" ("+1 …", "(020) …").
        let start = head.tok;
        while (start > head.tok - 2 && (t[start - 1]?.text === "+" || t[start - 1]?.text === "(")) start--;
        found.push({ kind: "phone", start: t[start]?.start ?? 0, end: t[tail.tok]?.end ?? 0 });
      }
      segment = [];
    }
  }
  return found;
}
