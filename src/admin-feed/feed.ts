import { z } from "zod";
import type { Identity } from "../auth/jwt";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { errorResponse, refusal } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import { HubSet } from "../socket-io/hub-set";
import type { StateCodec } from "../sockets/attachment";
import type { Outcome } from "../sockets/command";
import { sendFrame } from "../sockets/encode";
import { nativeTransport } from "../sockets/native";
import { SocketServer } from "../sockets/server";
import { conversationStub, PausedSources } from "./paused";

const counters = meter("AdminFeed");

const NO_STATE: StateCodec<Record<string, never>> = {
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
};

/**
 * One shard of the admins' live view: every message and booking change of the bookings and
 * support threads that hash to it (delivery/targets.ts), in order per conversation. It stores
 * nothing: conversations push batches by cursor while it says an admin watches, it drops repeats
 * and relays to its admin sockets.
 * Admins watching everything hold one socket per shard. Admins watching over Socket.IO are not
 * its sockets: it names their hubs to each conversation, which then pushes to them itself.
 */
export class AdminFeed
  extends SocketServer<Record<string, never>, Record<string, never>>
  implements DeliveryReceiver
{
  protected readonly label = "admin feed";
  protected readonly commands = {};
  protected override readonly served = " (the admin feed is read-only)";
  private readonly seen = new SeenPositions();
  private readonly watchers = new HubSet(this.ctx.storage, "socketIoHubs", counters);
  /** Conversations told that nobody watches: called back when an admin starts watching. */
  private readonly paused = new PausedSources(this.ctx.storage, counters);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, nativeTransport);
  }

  /**
   * Relays a conversation's batch to the admins watching here, and says whether anyone does: a
   * conversation stops pushing to a shard nobody watches (delivery/feed-consumer.ts).
   */
  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const frames = this.seen.fresh(source, items).flatMap((item) => item.frames.map((f) => f.frame));
    const sockets = this.connections();
    for (const frame of frames) for (const c of sockets) sendFrame(c.ws, frame);
    const hubs = this.watchers.hubs();
    const watched = sockets.length > 0 || hubs.length > 0;
    if (!watched) this.paused.add(source);
    const at = Date.now();
    return hubs.length > 0 ? { hubs, watched, at } : { watched, at };
  }

  /** A Socket.IO hub where an admin watches: named to this shard's conversations from now on. */
  async attachHub(hub: number): Promise<void> {
    const watchedBefore = this.isWatched();
    this.watchers.add(hub);
    if (!watchedBefore) await this.resumePaused();
  }

  /** Nobody watches on that hub any more. */
  async detachHub(hub: number): Promise<void> {
    this.watchers.remove(hub);
  }

  /** The first admin to watch: the conversations told nobody watches start pushing again. */
  protected override async onConnect(): Promise<void> {
    if (this.connections().length === 1 && this.watchers.hubs().length === 0) await this.resumePaused();
  }

  private isWatched(): boolean {
    return this.connections().length > 0 || this.watchers.hubs().length > 0;
  }

  private async resumePaused(): Promise<void> {
    const at = Date.now();
    await Promise.all(
      this.paused.take().map(async (source) => {
        counters.calls++;
        try {
          await conversationStub(this.env, source)?.feedWatched(at);
        } catch (error) {
          // That conversation shows up again with its next lifecycle change instead.
          console.warn("admin feed: a conversation did not hear it is watched", describeError(error));
        }
      }),
    );
  }

  protected stateCodec() {
    return NO_STATE;
  }

  protected initialState() {
    return {};
  }

  protected override admit(_request: Request, identity: Identity | null): Response | null {
    if (identity?.role !== "admin")
      return errorResponse(refusal("forbidden", "The admin feed is for admins only"));
    return null;
  }

  /** The feed is read-only: every command is unknown here, so this is never reached. */
  protected onCommand(): Outcome {
    return { reply: [], ack: "null" };
  }
}
