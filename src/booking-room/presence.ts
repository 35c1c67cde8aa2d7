import { describeError } from "../log";
import type { PartyRole, ServerEventPayload, UserRole } from "../protocol";

/** Someone with a connection joined to a booking. */
export type Joiner = { userId: string; role: UserRole };
/** A Socket.IO connection joined to the booking, as its hub reports it. */
export type RemoteJoiner = Joiner & { connectionId: string };

type Online = ServerEventPayload<"presence">["online"];

/**
 * Who is in a booking's chat right now: its parties with a connection joined to it, on the room's
 * own sockets or on a Socket.IO hub. Admins watching are never listed. Live only: nothing here is
 * stored. The room's own sockets say who they are in their attachments; the hubs' connections are
 * kept in memory as the hubs report joins and leaves, and asked of the hubs again after a wake.
 */
export class Presence {
  /** Joined Socket.IO connections by id; null until asked of the hubs since this object woke. */
  private remote: Map<string, RemoteJoiner & { hub: number }> | null = null;
  /** What was last announced, so an unchanged list is not sent again. */
  private announced: string | null = null;

  constructor(
    private readonly hubs: () => number[],
    private readonly askHub: (hub: number) => Promise<RemoteJoiner[]>,
  ) {}

  joinedRemotely(joiner: RemoteJoiner, hub: number): void {
    this.remote?.set(joiner.connectionId, { ...joiner, hub });
  }

  leftRemotely(connectionId: string): void {
    this.remote?.delete(connectionId);
  }

  /** The parties online, from the room's joined sockets (`local`) and the hubs'. */
  async online(local: Joiner[]): Promise<Online> {
    const remote = await this.remoteJoiners();
    const parties = new Map<string, { userId: string; role: PartyRole }>();
    for (const who of [...local, ...remote]) {
      if (who.role === "admin") continue;
      parties.set(`${who.role}:${who.userId}`, { userId: who.userId, role: who.role });
    }
    return [...parties.values()].sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  }

  /** Whether `online` differs from what was last announced; records it as announced. */
  changed(online: Online): boolean {
    const json = JSON.stringify(online);
    if (json === this.announced) return false;
    this.announced = json;
    return true;
  }

  private async remoteJoiners(): Promise<RemoteJoiner[]> {
    if (!this.remote) {
      const remote = new Map<string, RemoteJoiner & { hub: number }>();
      await Promise.all(
        this.hubs().map(async (hub) => {
          try {
            for (const joiner of await this.askHub(hub)) remote.set(joiner.connectionId, { ...joiner, hub });
          } catch (error) {
            console.warn("presence: a hub did not say who joined", describeError(error));
          }
        }),
      );
      // A report that arrived while the hubs were asked is in their answers too.
      this.remote ??= remote;
    }
    return [...this.remote.values()];
  }
}
