import { z } from "zod";
import type { Identity } from "../auth/jwt";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { errorResponse, refusal } from "../errors";
import { meter } from "../metering/meter";
import { HubSet } from "../socket-io/hub-set";
import type { StateCodec } from "../sockets/attachment";
import type { Outcome } from "../sockets/command";
import { sendFrame } from "../sockets/encode";
import { nativeTransport } from "../sockets/native";
import { SocketServer } from "../sockets/server";

const counters = meter("AdminFeed");

const NO_STATE: StateCodec<Record<string, never>> = {
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
};

/**
 * One shard of the admins' live view: every message and booking change of the bookings and
 * support threads that hash to it (delivery/targets.ts), in order per conversation. It stores
 * nothing: conversations push batches by cursor, it drops repeats and relays to its admin sockets.
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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, nativeTransport);
  }

  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const frames = this.seen.fresh(source, items).flatMap((item) => item.frames.map((f) => f.frame));
    if (frames.length > 0) {
      const sockets = this.connections();
      for (const frame of frames) for (const c of sockets) sendFrame(c.ws, frame);
    }
    const hubs = this.watchers.hubs();
    return hubs.length > 0 ? { hubs } : undefined;
  }

  /** A Socket.IO hub where an admin watches: named to this shard's conversations from now on. */
  async attachHub(hub: number): Promise<void> {
    this.watchers.add(hub);
  }

  /** Nobody watches on that hub any more. */
  async detachHub(hub: number): Promise<void> {
    this.watchers.remove(hub);
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
