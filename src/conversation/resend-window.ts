/**
 * How far back a resent `clientMessageId` is recognised: among the conversation's last this many
 * messages. Clients resend only what they have not seen acknowledged, right after reconnecting, so
 * the original is always recent; an index over every message would cost a row written per message.
 */
export const RESEND_WINDOW = 1_000;

type Sent = { seq: number; senderId: string; clientMessageId: string | null };

/**
 * The client message ids of the conversation's recent messages, in memory: the appends since the
 * object woke and, once loaded from the log's tail (at most RESEND_WINDOW rows, only when the
 * room is busy enough to pay for it; see MessageLog.findResend), the whole window.
 */
export class ResendWindow {
  private readonly bySender = new Map<string, number>();
  private loaded = false;

  get isLoaded(): boolean {
    return this.loaded;
  }

  load(tail: Iterable<Sent>): void {
    this.bySender.clear();
    for (const sent of tail) this.add(sent);
    this.loaded = true;
  }

  /** The seq of the message `senderId` sent as `clientMessageId`, if it is within the window. */
  find(senderId: string, clientMessageId: string, lastSeq: number): number | null {
    const seq = this.bySender.get(key(senderId, clientMessageId));
    return seq !== undefined && seq > lastSeq - RESEND_WINDOW ? seq : null;
  }

  add(sent: Sent): void {
    if (sent.clientMessageId === null) return;
    this.bySender.set(key(sent.senderId, sent.clientMessageId), sent.seq);
    if (this.bySender.size > 2 * RESEND_WINDOW) this.dropBefore(sent.seq - RESEND_WINDOW);
  }

  forget(): void {
    this.bySender.clear();
    this.loaded = false;
  }

  private dropBefore(seq: number): void {
    for (const [k, s] of this.bySender) if (s <= seq) this.bySender.delete(k);
  }
}

function key(senderId: string, clientMessageId: string): string {
  return `${senderId}\u0000${clientMessageId}`;
}
