/** E-mail addresses and links, which share one reader of domains (glued, spoken or spaced dots). */

import type { ContactMatch } from "./contact-guard";
import { isWord, isWordOrNum, set, skipSpace, type Token } from "./tokens";

// ---- Domains: shared by e-mail addresses and links ----------------------------------------------

/** Top-level domains that are no English word: "example.com" is a link wherever it stands. */
const SAFE_TLDS = set(
  "com net org info biz io co ly gl gg ai app dev xyz ee uk de fr nl ru ng za ke gh au ca br es pt pl ch se dk fi ie nz mx ar cl jp cn kr tw hk sg ph vn th ae sa eg tr ua cz ro gr hu il pk bd lk tz ug zm zw tv fm cc ws eu mobi gov edu",
);
/** Domains that are also words ("fine.it", "here.in"): a link only with a path ("t.me/jd"). */
const WORD_TLDS = set(
  "me to in is it at be so do no my us am as by id la link page shop store club live life world today fun art blog news online site tech",
);
const DOT_NAMES = set("dot . punto ponto punkt");
const AT_NAMES = set("at @ arroba");
const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}", "<": ">" };
/** How a dot was written: glued "a.b", spoken "a dot b" or "a(dot)b", or spaced "a . b". */
type Dot = "glued" | "spoken" | "spaced";
const DOT_RANK: Record<Dot, number> = { glued: 0, spoken: 1, spaced: 2 };

/** "(at)", "[dot]", "{at}", "<dot>": a name in brackets. */
function bracketed(t: Token[], i: number, names: Set<string>): boolean {
  const close = CLOSERS[t[i]?.text ?? ""];
  return close !== undefined && names.has(t[i + 1]?.low ?? "") && t[i + 2]?.text === close;
}

/** A label of a domain ("plumbing-pros", "site123"), returning where it ends or -1. */
function readLabel(t: Token[], i: number): number {
  if (!isWordOrNum(t[i])) return -1;
  let j = i;
  let width = 0;
  for (; width <= 63; j++) {
    const tk = t[j];
    if (isWordOrNum(tk)) width += tk ? tk.end - tk.start : 0;
    else if (!(tk?.text === "-" && isWordOrNum(t[j + 1]))) break;
  }
  return width <= 63 ? j : -1;
}

function readDot(t: Token[], i: number): { end: number; how: Dot } | null {
  if (t[i]?.text === "." && isWordOrNum(t[i - 1]) && isWordOrNum(t[i + 1]))
    return { end: i + 1, how: "glued" };
  let j = skipSpace(t, i, 1);
  let how: Dot = "spoken";
  if (bracketed(t, j, DOT_NAMES)) j += 3;
  else if (isWord(t[j], DOT_NAMES)) j++;
  else if (t[j]?.text === ".") {
    j++;
    how = "spaced";
  } else return null;
  return { end: skipSpace(t, j, 1), how };
}

type DomainEnd = { end: number; tld: string; how: Dot };

/** Every place the domain starting at i could end ("mail.example.co.uk": co, uk), at most 10 labels. */
function readDomain(t: Token[], i: number): DomainEnd[] {
  const ends: DomainEnd[] = [];
  let pos = readLabel(t, i);
  let how: Dot = "glued";
  for (let labels = 1; pos > 0 && labels < 10; labels++) {
    const dot = readDot(t, pos);
    const next = dot ? readLabel(t, dot.end) : -1;
    if (!dot || next < 0) break;
    if (DOT_RANK[dot.how] > DOT_RANK[how]) how = dot.how;
    const tld = t[next - 1];
    if (next === dot.end + 1 && tld?.kind === "word" && /^[a-z]{2,24}$/.test(tld.low))
      ends.push({ end: next, tld: tld.low, how });
    pos = next;
  }
  return ends;
}

// ---- E-mail addresses ---------------------------------------------------------------------------

const MAIL_PROVIDERS = set(
  "gmail googlemail yahoo hotmail outlook icloud protonmail proton aol gmx yandex mweb zoho",
);
const LOCAL_MARKS = set(". _ - + %");
/** Words before a spoken "at" that make it a preposition ("look at", "I'm at"). */
const NOT_LOCAL = set(
  "look looking looked me you him her us them it i we they be am is are was were arrive arrived arriving meet see stay staying work working home there here email mail write message reach contact m s re ll d ve all only just back out up down not still again done best good great price quote",
);

/** The "at" of an address: "@", "(at)", "[@]", "arroba", or the plain word "at" (weaker evidence). */
function readAt(t: Token[], i: number): { end: number; plain: boolean } | null {
  const tk = t[i];
  // "ig @jane.tiles" is a handle: a spaced "@" needs space on both sides ("john @ gmail . com").
  if (tk?.text === "@")
    return (t[i - 1]?.kind === "space") === (t[i + 1]?.kind === "space")
      ? { end: i + 1, plain: false }
      : null;
  if (tk?.low === "arroba") return { end: i + 1, plain: false };
  if (tk?.low === "at")
    return t[i - 1]?.kind === "space" && t[i + 1]?.kind === "space" ? { end: i + 1, plain: true } : null;
  return bracketed(t, i, AT_NAMES) ? { end: i + 3, plain: false } : null;
}

/** Where the local part before the "at" at i starts, or -1. */
function localStart(t: Token[], at: number, plain: boolean): number {
  const last = at - 1 - (t[at - 1]?.kind === "space" ? 1 : 0);
  const tk = t[last];
  if (!isWordOrNum(tk) || (plain && isWord(tk, NOT_LOCAL))) return -1;
  let start = last;
  for (let k = last, width = 0; k >= 0 && width < 64; k--) {
    const mark = t[k];
    if (isWordOrNum(mark)) start = k;
    else if (!(mark?.kind === "punct" && LOCAL_MARKS.has(mark.text))) break;
    width += mark ? mark.end - mark.start : 0;
  }
  // "john dot doe at gmail dot com"
  for (let n = 0; n < 3 && t[start - 1]?.kind === "space" && t[start - 2]?.low === "dot"; n++) {
    if (t[start - 3]?.kind !== "space" || !isWordOrNum(t[start - 4])) break;
    start -= 4;
  }
  return start;
}

function emailDomainEnd(t: Token[], from: number, plain: boolean): number {
  // After a plain "at", "it dot com" is a sentence unless the domain is a webmail's ("proton dot me").
  const strong = !plain || isWord(t[from], MAIL_PROVIDERS);
  const fits = (d: DomainEnd) =>
    SAFE_TLDS.has(d.tld) || (strong && (WORD_TLDS.has(d.tld) || (!plain && d.how === "glued")));
  const best = readDomain(t, from).filter(fits).at(-1);
  if (best) return best.end;
  // "lisa at gmail": the big webmail names are an address without their ".com".
  return isWord(t[from], MAIL_PROVIDERS) && !isWordOrNum(t[from + 1]) ? from + 1 : -1;
}

/** The e-mail addresses among the tokens, plain or disguised ("john at gmail dot com"). */
export function emailMatches(t: Token[]): ContactMatch[] {
  const found: ContactMatch[] = [];
  for (let i = 0; i < t.length; i++) {
    const at = readAt(t, i);
    const start = at ? localStart(t, i, at.plain) : -1;
    if (!at || start < 0) continue;
    const end = emailDomainEnd(t, skipSpace(t, at.end, 1), at.plain);
    if (end > 0) found.push({ kind: "email", start: t[start]?.start ?? 0, end: t[end - 1]?.end ?? 0 });
  }
  return found;
}

// ---- Links --------------------------------------------------------------------------------------

const DOMAIN_INSIDE = set(". - @ _ /");
const TRAILING = set(". , ! ? ; : ) ] } ' \" ”");

/** The end of the non-space chunk from i, less trailing punctuation ("see x.com/a.", "(x.com/a)"). */
function chunkEnd(t: Token[], i: number): number {
  let j = i;
  while (t[j] && t[j]?.kind !== "space") j++;
  while (j > i + 1 && t[j - 1]?.kind === "punct" && TRAILING.has(t[j - 1]?.text ?? "")) j--;
  return j;
}

function bareDomainEnd(t: Token[], i: number): number {
  const ends = readDomain(t, i);
  for (let k = ends.length - 1; k >= 0; k--) {
    const d = ends[k];
    if (!d || d.how === "spaced") continue;
    const path = t[d.end]?.text === "/" && t[d.end + 1] !== undefined && t[d.end + 1]?.kind !== "space";
    const fits = SAFE_TLDS.has(d.tld) || (d.how === "glued" && path && WORD_TLDS.has(d.tld));
    if (!fits) continue;
    if (path) return chunkEnd(t, d.end);
    // "joesplumbing dot com slash quotes"
    const slash =
      t[d.end]?.kind === "space" && t[d.end + 1]?.low === "slash" && t[d.end + 2]?.kind === "space";
    return slash && isWordOrNum(t[d.end + 3]) ? d.end + 4 : d.end;
  }
  return -1;
}

/** The links among the tokens: "http(s)://…", "www.…" and bare domains. */
export function urlMatches(t: Token[]): ContactMatch[] {
  const found: ContactMatch[] = [];
  for (let i = 0; i < t.length; i++) {
    const tk = t[i];
    // Only where a domain can begin: not inside one, nor after the "@" of an address.
    if (!isWordOrNum(tk) || isWordOrNum(t[i - 1]) || DOMAIN_INSIDE.has(t[i - 1]?.text ?? "")) continue;
    let end: number;
    if ((tk?.low === "http" || tk?.low === "https") && t[i + 1]?.text === ":" && t[i + 2]?.text === "/")
      end = chunkEnd(t, i);
    else if (tk?.low === "www" && t[i + 1]?.text === ".") end = chunkEnd(t, i);
    else end = bareDomainEnd(t, i);
    if (end <= i) continue;
    found.push({ kind: "url", start: tk?.start ?? 0, end: t[end - 1]?.end ?? 0 });
    i = end - 1;
  }
  return found;
}
