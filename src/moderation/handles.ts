/** Off-platform messenger names and the handles given with them ("IG: johnny.b", "@jane.tiles"). */

import type { ContactMatch } from "./contact-guard";
import { isWord, isWordOrNum, set, skipSpace, type Token } from "./tokens";

// Strong names are masked wherever they stand: they are only ever mentioned as a way to talk
// elsewhere. Medium names are also ordinary words or sites; weak ones ("signal", "line") usually are.
const STRONG = 3;
const MEDIUM = 2;
const WEAK = 1;
const tier = (names: string, rank: number) => names.split(" ").map((name) => [name, rank] as const);
const MESSENGERS = new Map<string, number>([
  ...tier("whatsapp whatsap watsapp watsap whatapp telegram viber wechat weixin skype snapchat", STRONG),
  ...tier("kik threema discord imessage facetime botim zalo wickr", STRONG),
  ...tier("instagram insta ig snap fb facebook messenger tg tiktok twitter linkedin", MEDIUM),
  ...tier("signal line", WEAK),
]);
const SPLIT_NAMES = new Map([
  ["whats app", STRONG],
  ["snap chat", STRONG],
  ["tele gram", STRONG],
  ["face book", MEDIUM],
  ["insta gram", MEDIUM],
]);
const APOSTROPHES = set("' ’");
const ID_WORDS = set("id handle username user name account acc");
const IDENT_MARKS = set(". _ - :");
/** Words after "my whatsapp is" that are no handle ("my whatsapp is the same number"). */
const NOT_IDENT = set(
  "the a an same not my your also only on off ok down working broken fine good bad weak private",
);
const PREPOSITIONS = set("on via through thru over using to");
/** Words that, a few words before "on <messenger>", make it an invitation ("find me on signal"). */
const CUES = set(
  "add find text texting message msg call reach contact hit ping dm pm chat talk follow write send hmu catch move switch continue connect me us m im",
);
const HANDLE_CUES = set("follow add find dm me");

function messengerAt(t: Token[], i: number): { end: number; tier: number } | null {
  const tk = t[i];
  if (tk?.kind !== "word") return null;
  const tier = MESSENGERS.get(tk.low);
  if (tier) return { end: i + 1, tier };
  let first = tk.low;
  let j = i + 1;
  // "what's app"
  if (first === "what" && APOSTROPHES.has(t[j]?.text ?? "") && t[j + 1]?.low === "s") {
    first = "whats";
    j += 2;
  }
  if (t[j]?.kind === "space" || t[j]?.text === "-") j++;
  const split = SPLIT_NAMES.get(`${first} ${t[j]?.low}`);
  return split && t[j]?.kind === "word" ? { end: j + 1, tier: split } : null;
}

/** The end of a handle starting at i ("john_doe", "live:john", "johnny.b"), or -1. */
function identEnd(t: Token[], i: number): number {
  if (!(t[i]?.kind === "word" || t[i]?.text === "_")) return -1;
  let end = -1;
  for (let k = i, width = 0; k < t.length && width < 64; k++) {
    const tk = t[k];
    if (isWordOrNum(tk)) end = k + 1;
    else if (!(tk?.kind === "punct" && IDENT_MARKS.has(tk.text))) break;
    width += tk ? tk.end - tk.start : 0;
  }
  return end;
}

/** The end of the handle given after a messenger's name ("IG: johnny.b", "WeChat ID: abc"), or -1. */
function handleAfter(t: Token[], name: number, m: { end: number; tier: number }): number {
  let j = skipSpace(t, m.end, 1);
  const named = isWord(t[j], ID_WORDS);
  if (named) j = skipSpace(t, j + 1, 1);
  let link = "";
  if (t[j]?.text === ":" || t[j]?.text === "=" || t[j]?.low === "is") link = t[j]?.low ?? "";
  if (link) j = skipSpace(t, j + 1, 1);
  const at = t[j]?.text === "@";
  if (!link && !at && !named) return -1;
  // "my signal is weak", "the line: kitchen": only strong names, or "my insta is …", take "is".
  const my = t[skipSpace(t, name - 1, -1)]?.low === "my";
  if (link === "is" && (m.tier === WEAK || (m.tier === MEDIUM && !my))) return -1;
  if (m.tier === WEAK && !named && !at) return -1;
  if (!at && isWord(t[j], NOT_IDENT)) return -1;
  return identEnd(t, at ? j + 1 : j);
}

/** "find me on signal", "let's talk via line": an invitation to a messenger named at i. */
function invitedTo(t: Token[], i: number): boolean {
  const prep = skipSpace(t, i - 1, -1);
  if (!isWord(t[prep], PREPOSITIONS)) return false;
  for (let k = prep - 1, words = 0; k >= 0 && words < 4; k--) {
    const tk = t[k];
    if (tk?.kind === "punct" && ".!?;".includes(tk.text)) return false;
    if (tk?.kind !== "word") continue;
    if (CUES.has(tk.low)) return true;
    words++;
  }
  return false;
}

/** An "@handle" near a messenger's name or after "follow me", "add": 12 tokens either way. */
function atHandleInvited(t: Token[], i: number, end: number): boolean {
  for (let k = Math.max(0, i - 12); k < Math.min(t.length, end + 12); k++) {
    if ((k < i || k >= end) && messengerAt(t, k)) return true;
  }
  for (let k = i - 1, words = 0; k >= 0 && words < 3; k--) {
    if (t[k]?.kind !== "word") continue;
    if (HANDLE_CUES.has(t[k]?.low ?? "")) return true;
    words++;
  }
  return false;
}

/** Messenger names and handles among the tokens. */
export function handleMatches(t: Token[]): ContactMatch[] {
  const found: ContactMatch[] = [];
  for (let i = 0; i < t.length; i++) {
    const start = t[i]?.start ?? 0;
    if (t[i]?.text === "@" && !isWordOrNum(t[i - 1])) {
      const end = identEnd(t, i + 1);
      if (end > 0 && atHandleInvited(t, i, end))
        found.push({ kind: "handle", start, end: t[end - 1]?.end ?? 0 });
      continue;
    }
    const m = messengerAt(t, i);
    if (!m) continue;
    const handle = handleAfter(t, i, m);
    if (m.tier === STRONG || handle > 0 || invitedTo(t, i)) {
      found.push({ kind: "handle", start, end: t[(handle > 0 ? handle : m.end) - 1]?.end ?? 0 });
    }
    i = m.end - 1;
  }
  return found;
}
