// A message's photos and files. Downloads need the viewer's JWT and chat token, which an <img> or a
// link cannot send, so each file is fetched once and shown through an object URL, revoked when the
// chat view that made it goes away.

import type { AttachmentRef } from "../src/protocol";
import { describe, el, notice } from "./dom";

/** Photo types a browser draws; HEIC and PDF are offered as a download instead. */
const DRAWN = new Set(["image/jpeg", "image/png", "image/webp"]);

export const isDrawn = (contentType: string) => DRAWN.has(contentType);

/** A size as a person reads it. */
export function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One open chat's files: fetched when first seen, each through one object URL. */
export class ChatFiles {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly made = new Map<string, string>();
  private readonly waiting = new Map<Element, () => void>();
  private readonly observer: IntersectionObserver;
  private disposed = false;

  constructor(
    private readonly download: (attachmentId: string) => Promise<Blob>,
    scroller: HTMLElement,
  ) {
    // Thumbnails load as they scroll into view: every download counts against the reader's rate.
    this.observer = new IntersectionObserver((entries) => this.visible(entries), {
      root: scroller,
      rootMargin: "200px",
    });
  }

  /** A message's files: photos as thumbnails (a click opens the full image), others as a chip to download. */
  render(files: AttachmentRef[]): HTMLElement {
    const box = el("div", "files");
    for (const file of files) box.append(isDrawn(file.contentType) ? this.thumbnail(file) : this.chip(file));
    return box;
  }

  /** Revokes the object URLs of files no longer shown (a message an admin hid). */
  release(files: AttachmentRef[]): void {
    for (const { id } of files) {
      const url = this.made.get(id);
      if (url) URL.revokeObjectURL(url);
      this.made.delete(id);
      this.urls.delete(id);
    }
  }

  /** The chat view is gone: nothing more loads, and every URL it made is revoked. */
  dispose(): void {
    this.disposed = true;
    this.observer.disconnect();
    this.waiting.clear();
    for (const url of this.made.values()) URL.revokeObjectURL(url);
    this.made.clear();
    this.urls.clear();
  }

  private url(id: string): Promise<string> {
    const known = this.urls.get(id);
    if (known) return known;
    const url = this.download(id).then((blob) => {
      if (this.disposed) throw new Error("The chat was closed");
      const made = URL.createObjectURL(blob);
      this.made.set(id, made);
      return made;
    });
    // A failed download may be tried again later.
    url.catch(() => this.urls.get(id) === url && this.urls.delete(id));
    this.urls.set(id, url);
    return url;
  }

  private thumbnail(file: AttachmentRef): HTMLElement {
    const link = el("a", "thumb");
    link.target = "_blank";
    link.rel = "noopener";
    link.title = `${file.name} · ${sizeOf(file.size)}`;
    const img = el("img", "");
    img.alt = file.name;
    img.dataset.testid = "attachment-image";
    // Bytes that do not decode are still the file: offer them as a download.
    img.addEventListener("error", () => link.replaceWith(this.chip(file)), { once: true });
    link.append(img);
    this.waiting.set(img, () => {
      this.url(file.id).then(
        (url) => {
          img.src = url;
          link.href = url;
        },
        (error) => {
          if (!this.disposed) link.replaceWith(this.chip(file, `not loaded: ${describe(error)}`));
        },
      );
    });
    this.observer.observe(img);
    return link;
  }

  private chip(file: AttachmentRef, problem?: string): HTMLElement {
    const chip = el("button", "file-chip");
    chip.type = "button";
    chip.dataset.testid = "attachment-file";
    chip.title = `Download ${file.name}`;
    const kind = el("span", "file-kind", file.contentType.split("/")[1]?.toUpperCase() ?? "FILE");
    const about = el("span", "file-about");
    about.append(el("span", "file-name", file.name), el("span", "file-size", problem ?? sizeOf(file.size)));
    chip.append(kind, about);
    chip.addEventListener("click", () => void this.save(file));
    return chip;
  }

  private async save(file: AttachmentRef): Promise<void> {
    try {
      const link = el("a", "");
      link.href = await this.url(file.id);
      link.download = file.name;
      link.click();
    } catch (error) {
      if (!this.disposed) notice(`Could not download ${file.name}: ${describe(error)}`);
    }
  }

  private visible(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const load = this.waiting.get(entry.target);
      if (!entry.isIntersecting || !load) continue;
      this.waiting.delete(entry.target);
      this.observer.unobserve(entry.target);
      load();
    }
  }
}
