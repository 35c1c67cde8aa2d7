import type { Config } from "../config";

/**
 * Engine.IO's heartbeat, server side: the server pings every interval and a connection that has
 * not answered within interval + timeout is closed; one that has not logged in within the connect
 * timeout is closed too. One alarm serves every connection of a hub: at the next round of pings,
 * or earlier when a connection's login deadline comes first.
 */
export class Heartbeat {
  /** When the next round of pings is due; unknown (0) after a wake, so the next alarm pings. */
  private pingAt = 0;

  constructor(private readonly config: () => Config) {}

  /** Whether this alarm pings everyone (and from when the next round is due). */
  pingsNow(now: number): boolean {
    if (now < this.pingAt) return false;
    this.pingAt = now + this.config().socketIoPing.intervalMs;
    return true;
  }

  /**
   * Why a connection should be closed, if it should: no answer to pings, or no login in time
   * (Socket.IO's connectTimeout is 45 s; here a connection nobody logged in on gets a few seconds).
   */
  staleReason(
    connection: { openedAt: number; loggedIn: boolean },
    lastHeard: number,
    now: number,
  ): string | null {
    const { socketIoPing, socketIoConnectTimeoutMs } = this.config();
    if (!connection.loggedIn && now - connection.openedAt >= socketIoConnectTimeoutMs)
      return "connect timeout";
    if (now - lastHeard > socketIoPing.intervalMs + socketIoPing.timeoutMs) return "ping timeout";
    return null;
  }

  /** When the alarm should fire next for these connections. */
  due(connections: { openedAt: number; loggedIn: boolean }[], now: number): number {
    const { socketIoPing, socketIoConnectTimeoutMs } = this.config();
    let due = this.pingAt > now ? this.pingAt : now + socketIoPing.intervalMs;
    for (const c of connections) if (!c.loggedIn) due = Math.min(due, c.openedAt + socketIoConnectTimeoutMs);
    return due;
  }
}
