/**
 * The contact guard finds phone numbers, e-mail addresses, links and off-platform messenger handles
 * in chat text so the marketplace can hide them and keep both parties on the platform.
 *
 * It reads tokens (letter runs, digit runs, spaces, single marks) in a few passes whose look-around
 * is bounded, never through backtracking regular expressions, so any 4000-character message costs
 * linear time: there is no input that makes it slow (no ReDoS).
 */

/** What a contact detail is. */
export type ContactKind = "phone" | "email" | "url" | "handle";
/** A contact detail in a text: UTF-16 offsets, `end` exclusive. */
export type ContactMatch = { kind: ContactKind; start: number; end: number };
/** What each contact detail is replaced with. */
export const MASK = "[hidden]";

import { emailMatches, urlMatches } from "./emails-and-links";
import { handleMatches } from "./handles";
import { phoneMatches } from "./phone";
import { tokenize } from "./tokens";

/** Sorted, with overlapping matches joined into the first (an address's domain is no second link). */
function merge(matches: readonly ContactMatch[]): ContactMatch[] {
  const sorted = matches.filter((m) => m.start < m.end).sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: ContactMatch[] = [];
  for (const m of sorted) {
    const last = merged.at(-1);
    if (last && m.start < last.end) last.end = Math.max(last.end, m.end);
    else merged.push({ ...m });
  }
  return merged;
}

/** The contact details in a chat message, sorted by position and never overlapping. */
export function findContacts(text: string): ContactMatch[] {
  const t = tokenize(text);
  return merge([...phoneMatches(t), ...emailMatches(t), ...urlMatches(t), ...handleMatches(t)]);
}

/** The text with each contact detail replaced by {@link MASK}. */
export function maskContacts(text: string, matches: readonly ContactMatch[] = findContacts(text)): string {
  let masked = "";
  let from = 0;
  for (const m of merge(matches)) {
    const start = Math.min(Math.max(m.start, from), text.length);
    masked += text.slice(from, start) + MASK;
    from = Math.max(from, Math.min(m.end, text.length));
  }
  return masked + text.slice(from);
}
