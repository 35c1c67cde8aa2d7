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

/** The one place errors and hints are shown; `null` clears it. */
export function notice(text: string | null): void {
  $("notice").hidden = text === null;
  $("notice-text").textContent = text ?? "";
}

export function describe(error: unknown): string {
  return error instanceof ChatClientError ? `${error.message} (${error.code})` : String(error);
}

export const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
