import { type ServerEventPayload, TYPING_EXPIRES_MS } from "../../src/protocol";

type Typing = ServerEventPayload<"typing">;
type Online = ServerEventPayload<"presence">["online"];

/** How often, at most, `typing(true)` is sent again while the user keeps typing. */
const TYPING_REFRESH_MS = TYPING_EXPIRES_MS / 2;

/**
 * A booking chat's live state: who is online, who is typing. `typing` with `isTyping: true` lapses
 * TYPING_EXPIRES_MS after it arrived unless another comes, so a sender that vanished mid-word
 * never leaves "typing..." on screen; the lapse is emitted as a `typing` with `isTyping: false`.
 */
export class LiveState {
  online: Online = [];
  private readonly lapses = new Map<string, ReturnType<typeof setTimeout>>();
  /** What this client last said about its own typing, and when. */
  private sent: { isTyping: boolean; at: number } = { isTyping: false, at: 0 };

  constructor(private readonly emitTyping: (typing: Typing) => void) {}

  /** A `typing` from the server: passed on, and its lapse scheduled (or cancelled). */
  heardTyping(typing: Typing): void {
    const key = `${typing.role}:${typing.userId}`;
    clearTimeout(this.lapses.get(key));
    this.lapses.delete(key);
    if (typing.isTyping) {
      this.lapses.set(
        key,
        setTimeout(() => {
          this.lapses.delete(key);
          this.emitTyping({ ...typing, isTyping: false });
        }, TYPING_EXPIRES_MS),
      );
    }
    this.emitTyping(typing);
  }

  /**
   * Whether this client should tell the server it is (or stopped) typing now: on every change, and
   * again while typing goes on, before the other side's indicator lapses; never more often.
   */
  shouldSendTyping(isTyping: boolean, now = Date.now()): boolean {
    const changed = isTyping !== this.sent.isTyping;
    if (!changed && (!isTyping || now - this.sent.at < TYPING_REFRESH_MS)) return false;
    this.sent = { isTyping, at: now };
    return true;
  }

  clear(): void {
    for (const timer of this.lapses.values()) clearTimeout(timer);
    this.lapses.clear();
    this.online = [];
  }
}
