/** The contact guard's tokenizer and the small token tests every detector shares. */

/** A run of one character class in a text: UTF-16 offsets, `end` exclusive; `low` is lower-cased. */
export type Token = {
  kind: "word" | "num" | "space" | "punct";
  text: string;
  low: string;
  start: number;
  end: number;
};

// One alternative per kind, each a run of one character class: nothing for the engine to backtrack
// into. \p{Nd} takes every script's digits (fullwidth, Arabic-Indic) and \p{Cf} the invisible
// characters people slip between digits, which then count as spaces.
const TOKEN = /([\p{L}\p{M}]+)|(\p{Nd}+)|([\s\p{Cf}]+)|([\s\S])/gu;

/** The tokens of a text, in order, covering every character. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const kind = m[1] ? "word" : m[2] ? "num" : m[3] ? "space" : "punct";
    tokens.push({ kind, text: m[0], low: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length });
  }
  return tokens;
}

/** A set of the space-separated words. */
export const set = (words: string) => new Set(words.split(" "));
/** Whether a token is a word or a number. */
export const isWordOrNum = (tk: Token | undefined) => tk?.kind === "word" || tk?.kind === "num";
/** Whether a token is one of the words (compared lower-cased). */
export const isWord = (tk: Token | undefined, words: Set<string>) => tk?.kind === "word" && words.has(tk.low);
/** Index i, or the next one in direction `step` when token i is a space. */
export const skipSpace = (t: Token[], i: number, step: 1 | -1) => (t[i]?.kind === "space" ? i + step : i);
