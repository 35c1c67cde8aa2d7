import { ChatClientError } from "../sdk/src";

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** An element with a class and text content, built without innerHTML so user text stays text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/**
 * What an error is about: the next success of the same kind clears it (a list that loads again
 * clears "Could not load the list"), so an old error never stays after things work again.
 */
export type Topic = "action" | "list" | "chat" | "send" | "live";
let shownTopic: Topic | null = null;

/** The one place errors, hints and confirmations are shown, always in view; `null` clears it. */
export function notice(text: string | null, topic: Topic = "action", tone: "error" | "ok" = "error"): void {
  shownTopic = text === null ? null : topic;
  $("notice").hidden = text === null;
  $("notice").dataset.tone = tone;
  $("notice-text").textContent = text ?? "";
}

/** `topic` went well this time: its error, if one is shown, is out of date. */
export function succeeded(topic: Topic): void {
  if (shownTopic === topic) notice(null);
}

export function describe(error: unknown): string {
  return error instanceof ChatClientError ? `${error.message} (${error.code})` : String(error);
}

export const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
