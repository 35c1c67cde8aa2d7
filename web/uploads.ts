// Photos and files picked for the next message: uploaded as soon as they are picked, shown as small
// thumbnails until the message goes out, and removable until then.

import { ChatClientError } from "../sdk/src";
import { type AttachmentRef, MAX_ATTACHMENTS_PER_MESSAGE } from "../src/protocol";
import { describe, el, notice } from "./dom";
import { isDrawn } from "./files";

type Item = {
  file: File;
  /** A local object URL of the picked photo, for its thumbnail. */
  preview: string | null;
  ref: AttachmentRef | null;
  /** Settles once the upload is answered (a refused one has left the list by then). */
  done: Promise<void>;
  /** Removed, or left behind with its chat: its upload's answer no longer matters. */
  dropped: boolean;
};

/** Why a file was refused, in words (the service checks the type from the bytes, and the size). */
export function uploadError(name: string, error: unknown): string {
  const refused = error instanceof ChatClientError ? error.code : null;
  if (refused === "unsupported_media_type")
    return `${name} was not attached: only photos (JPEG, PNG, WebP, HEIC) and PDF files can be sent.`;
  if (refused === "payload_too_large") return `${name} was not attached: it is larger than 10 MB.`;
  return `${name} was not attached: ${describe(error)}`;
}

export class PendingFiles {
  private items: Item[] = [];

  constructor(private readonly list: HTMLElement) {}

  get size(): number {
    return this.items.length;
  }

  /** Adds what fits (at most five a message) and uploads each; a refusal is shown and the file dropped. */
  add(files: File[], upload: (file: File) => Promise<AttachmentRef>): void {
    const room = MAX_ATTACHMENTS_PER_MESSAGE - this.items.length;
    if (files.length > room)
      notice(
        `A message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} files; ${files.length - room} left out.`,
      );
    for (const file of files.slice(0, Math.max(0, room))) {
      const item: Item = {
        file,
        preview: isDrawn(file.type) ? URL.createObjectURL(file) : null,
        ref: null,
        done: Promise.resolve(),
        dropped: false,
      };
      item.done = upload(file).then(
        (ref) => {
          item.ref = ref;
          this.render();
        },
        (error) => {
          if (item.dropped) return;
          this.drop([item]);
          notice(uploadError(file.name, error));
        },
      );
      this.items.push(item);
    }
    this.render();
  }

  /**
   * Everything picked leaves the list at once (as the text leaves the box); resolves with the ids
   * to send, in the order picked, once the uploads still running are answered.
   */
  async take(): Promise<string[]> {
    const taken = this.items;
    this.items = [];
    this.render();
    await Promise.all(taken.map((item) => item.done));
    for (const item of taken) if (item.preview) URL.revokeObjectURL(item.preview);
    return taken.flatMap((item) => (item.ref ? [item.ref.id] : []));
  }

  clear(): void {
    this.drop(this.items);
  }

  /** An unsent upload is left for the service to delete (it does after an hour). */
  private drop(items: Item[]): void {
    for (const item of items) {
      item.dropped = true;
      if (item.preview) URL.revokeObjectURL(item.preview);
    }
    this.items = this.items.filter((item) => !items.includes(item));
    this.render();
  }

  private render(): void {
    this.list.hidden = this.items.length === 0;
    this.list.replaceChildren(...this.items.map((item) => this.row(item)));
  }

  private row(item: Item): HTMLElement {
    const li = el("li", "pending-file");
    li.dataset.testid = "pending-file";
    li.dataset.state = item.ref ? "ready" : "uploading";
    li.title = item.ref ? item.file.name : `Uploading ${item.file.name}…`;
    if (item.preview) {
      const img = el("img", "");
      img.src = item.preview;
      img.alt = item.file.name;
      li.append(img);
    } else li.append(el("span", "file-name", item.file.name));
    const remove = el("button", "remove", "×");
    remove.type = "button";
    remove.dataset.testid = "pending-remove";
    remove.setAttribute("aria-label", `Remove ${item.file.name}`);
    remove.addEventListener("click", () => this.drop([item]));
    li.append(remove);
    return li;
  }
}
