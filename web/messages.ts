// The open chat's messages. Each is drawn from the Message as this viewer receives it, and drawn
// again from a changed copy when an admin hides it, so there is one way a message looks.

import type { Message } from "../src/protocol";
import { el, time } from "./dom";
import type { ChatFiles } from "./files";

/** Who is looking, and the open chat's files (none before the viewer may read the chat). */
export type Viewer = { userId: string; admin: boolean; files: ChatFiles | null };

export class MessageList {
  private readonly shown = new Map<number, Message>();
  private viewer: Viewer | null = null;
  /** Own messages up to this seq the other party has read. */
  private readBy = 0;

  constructor(private readonly list: HTMLElement) {}

  /** Empties the list for another chat (or none); the files of the last one are let go. */
  reset(viewer: Viewer | null): void {
    this.viewer?.files?.dispose();
    this.viewer = viewer;
    this.shown.clear();
    this.readBy = 0;
    this.list.replaceChildren();
  }

  add(m: Message): void {
    if (!this.viewer) return;
    this.shown.set(m.seq, m);
    if (m.senderId === this.viewer.userId && m.isRead) this.readBy = Math.max(this.readBy, m.seq);
    const drawn = this.draw(m, this.viewer);
    // The stored message takes the place of its "sending" line.
    const sending = m.clientMessageId ? this.sendingLine(m.clientMessageId) : null;
    if (sending) sending.replaceWith(drawn);
    else this.list.append(drawn);
    this.renderReadMarks();
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** A message of this viewer's on its way (offline, or its files uploading), shown until stored. */
  sending(clientMessageId: string, text: string, files: number): void {
    const li = el("li", "message mine sending");
    li.dataset.testid = "message";
    li.dataset.state = "sending";
    li.dataset.clientMessageId = clientMessageId;
    if (text !== "") li.append(el("span", "text", text));
    const status = el("span", "time", files > 0 ? `Sending with ${files} file(s)…` : "Sending…");
    status.dataset.testid = "message-sending";
    const footer = el("div", "footer");
    footer.append(status);
    li.append(footer);
    this.list.append(li);
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** A message that was refused: its line stays, saying so, so the text is not lost from view. */
  notSent(clientMessageId: string, reason: string): void {
    const li = this.sendingLine(clientMessageId);
    if (!li) return;
    li.dataset.state = "failed";
    const status = li.querySelector(".time");
    if (status) status.textContent = `Not sent: ${reason}`;
  }

  private sendingLine(clientMessageId: string): HTMLElement | null {
    for (const li of this.list.querySelectorAll<HTMLElement>(".message.sending"))
      if (li.dataset.clientMessageId === clientMessageId) return li;
    return null;
  }

  /** An admin hid `seq`: parties lose its text and files from view, admins keep them, marked. */
  hide(seq: number): void {
    const m = this.shown.get(seq);
    const li = this.list.querySelector(`.message[data-seq="${seq}"]`);
    if (!m || !li || !this.viewer || m.hidden) return;
    let hidden: Message = { ...m, hidden: true };
    if (!this.viewer.admin) {
      const { attachments, ...rest } = m;
      if (attachments) this.viewer.files?.release(attachments);
      hidden = { ...rest, hidden: true, content: "", metadata: null };
    }
    this.shown.set(seq, hidden);
    li.replaceWith(this.draw(hidden, this.viewer));
    this.renderReadMarks();
  }

  /** The other party read every message up to `seq`. */
  read(seq: number): void {
    this.readBy = Math.max(this.readBy, seq);
    this.renderReadMarks();
  }

  /** A line from the page itself (the chat closed), after the messages. */
  note(text: string, testid: string): void {
    const li = el("li", "system", text);
    li.dataset.testid = testid;
    this.list.append(li);
    this.list.scrollTop = this.list.scrollHeight;
  }

  private draw(m: Message, { userId, admin, files }: Viewer): HTMLLIElement {
    const mine = m.senderId === userId;
    const li = el("li", `message${mine ? " mine" : ""}${m.hidden ? " withheld" : ""}`);
    li.dataset.testid = "message";
    li.dataset.seq = String(m.seq);
    li.append(el("span", "sender", mine ? "" : `${m.senderId} · ${m.senderRole}`));
    if (m.hidden)
      li.append(marker(admin ? "Hidden from the parties" : "Hidden by an admin", "message-hidden"));
    if (m.content !== "") li.append(el("span", "text", m.content));
    if (m.attachments?.length && files) li.append(files.render(m.attachments));
    // The sender (and an admin) read the original; the other party reads [hidden] in its place.
    if (m.masked && (admin || !m.hidden)) {
      const seen = mine || admin ? "Contact details hidden from the other party" : "Contact details hidden";
      li.append(marker(seen, "message-masked"));
    }
    const footer = el("div", "footer");
    const action = this.action(m, mine);
    if (action) footer.append(action);
    const sentAt = el("span", "time", time(m.createdAt));
    sentAt.dataset.testid = "message-time";
    footer.append(sentAt);
    li.append(footer);
    return li;
  }

  /** Parties may report the other party's messages; admins may hide any. Nothing once it is hidden. */
  private action(m: Message, mine: boolean): HTMLButtonElement | null {
    if (m.hidden || mine) return null;
    const admin = this.viewer?.admin === true;
    const button = el("button", "quiet small", admin ? "Hide" : "Report");
    button.type = "button";
    button.dataset.action = admin ? "hide" : "report";
    button.dataset.testid = admin ? "hide-button" : "report-button";
    return button;
  }

  /** Own messages the other party has read get a double tick. */
  private renderReadMarks(): void {
    for (const li of this.list.querySelectorAll<HTMLElement>(".message.mine:not(.sending)")) {
      const read = Number(li.dataset.seq) <= this.readBy;
      const sentAt = li.querySelector(".time");
      if (!sentAt) continue;
      sentAt.textContent = `${sentAt.textContent?.replace(/ ✓✓$/, "") ?? ""}${read ? " ✓✓" : ""}`;
      li.dataset.read = String(read);
    }
  }
}

function marker(text: string, testid: string): HTMLElement {
  const span = el("span", "marker", text);
  span.dataset.testid = testid;
  return span;
}
