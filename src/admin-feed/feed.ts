import type { Identity } from "../auth/jwt";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { sioHubStub } from "../delivery/targets";
import { errorResponse } from "../errors";
import { meter } from "../metering/meter";
import { HubRegistry } from "../socket-io/hub-registry";
import { liveSockets } from "../sockets/accept";
import { ChatError, sendChatError } from "../sockets/frames";
import { SocketObject } from "../sockets/socket-object";
import { sendFrame } from "../sockets/socket-state";

const counters = meter("AdminFeed");

/**
 * One shard of the admins' live view: every message and booking change of the bookings and
 * support threads that hash to it (delivery/targets.ts), in order per conversation. It stores
 * nothing: conversations push batches by cursor, it drops repeats and relays to its admin sockets.
 * Admins watching everything hold one socket per shard.
 */
export class AdminFeed extends SocketObject<Record<string, never>> implements DeliveryReceiver {
  protected readonly label = "admin feed";
  protected readonly clientEvents = {};
  private readonly seen = new SeenPositions();
  private readonly hubs = new HubRegistry(this.ctx.storage, counters);

  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const frames = this.seen
      .fresh(source, items)
      .flatMap((item) => (item.kind === "event" ? item.frames : [item.frame]));
    if (frames.length === 0) return;
    for (const ws of liveSockets(this.ctx)) for (const frame of frames) sendFrame(ws, frame);
    await this.hubs.forward((hub) => sioHubStub(this.env, hub).feed(frames));
  }

  /** Called by a Socket.IO hub when an admin connects there: it hears this shard from then on. */
  async attachHub(hub: number): Promise<void> {
    this.hubs.add(hub);
  }

  protected override onBeforeConnect(identity: Identity): Response | null {
    if (identity.role !== "admin")
      return errorResponse(403, "forbidden", "The admin feed is for admins only");
    return null;
  }

  /** The feed is read-only: every client event is unknown here. */
  protected override onInvalidFrame(ws: WebSocket, error: ChatError): void {
    sendChatError(ws, new ChatError("invalid_payload", `${error.message} (the admin feed is read-only)`));
  }

  protected override onMessage(): void {}
}
