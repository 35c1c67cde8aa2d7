/**
 * Checks on untrusted JSON that must run before anything recursive touches it. JSON.parse copes
 * with deep nesting, but JSON.stringify, structured clone and SQLite's JSON functions do not (a
 * frame nested 30,000 deep overflowed the stack; metadata 1,000 deep made D1 refuse a batch), and
 * a lone surrogate is broadcast as sent but stored as U+FFFD. Everything here is iterative.
 */

/** How deep any frame or body may nest: room for an envelope around metadata 16 deep. */
export const MAX_JSON_DEPTH = 20;

/** Whether `text` opens more than `max` arrays or objects inside one another (strings skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The nesting depth of a parsed value: a scalar is 0, `{}` and `[]` are 1. */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The first string (key or value) in `value` that is not well-formed Unicode, if any. */
export function hasIllFormedText(value: unknown): boolean {
  const stack: unknown[] = [value];
  for (let node = stack.pop(); node !== undefined || stack.length > 0; node = stack.pop()) {
    if (typeof node === "string") {
      if (!node.isWellFormed()) return true;
    } else if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        if (!key.isWellFormed()) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** Every key of every object in `value`, counted. */
export function keyCount(value: unknown): number {
  let count = 0;
  const stack: unknown[] = [value];
  for (let node = stack.pop(); node !== undefined || stack.length > 0; node = stack.pop()) {
    if (node === null || typeof node !== "object") continue;
    if (!Array.isArray(node)) count += Object.keys(node).length;
    for (const child of Object.values(node)) stack.push(child);
  }
  return count;
}

/** Parses untrusted JSON text, or says why not, as the end of a sentence ("Frame …", "Body …"). */
export function parseUntrustedJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    return { ok: false, reason: `is not valid JSON here: nested more than ${MAX_JSON_DEPTH} levels deep` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "is not valid JSON" };
  }
  if (hasIllFormedText(value)) {
    return { ok: false, reason: "contains text that is not well-formed Unicode (a lone surrogate)" };
  }
  return { ok: true, value };
}
