import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { DeliveryItem } from "../src/delivery/items";
import { inboxStub, sioHubStub } from "../src/delivery/targets";
import { SocketIoHub } from "../src/socket-io/hub";
import { api } from "./helpers/api";
import { accept, createBooking, parties, pay } from "./helpers/flow";
import { inbox, joined } from "./helpers/socket";
import { RawSocketIo } from "./helpers/socket-io";
import type { TestUser } from "./helpers/users";

// What reaches Socket.IO connections is delivered like anything else: by cursor, retried, each hub
// on its own. A hub that fails or hangs delays only its own connections.

type Deliver = SocketIoHub["deliver"];

/** Makes every hub's `deliver` do `instead` (for the items `when` picks) until the returned function undoes it. */
function breakHubs(
  instead: (original: Deliver, self: SocketIoHub, args: Parameters<Deliver>) => ReturnType<Deliver>,
) {
  const original = SocketIoHub.prototype.deliver;
  SocketIoHub.prototype.deliver = function (this: SocketIoHub, ...args: Parameters<Deliver>) {
    return instead(original, this, args);
  };
  return () => {
    SocketIoHub.prototype.deliver = original;
  };
}

/**
 * Closes a user's Socket.IO connection and waits until the hub has told the user's inbox, so the
 * hub's close work does not outlive the test.
 */
async function closeAndRelease(sio: RawSocketIo, user: TestUser): Promise<void> {
  sio.close();
  await vi.waitUntil(async () => {
    const counts = await runInDurableObject(
      inboxStub(env, { userId: user.id, role: user.role }),
      (_, state) => JSON.stringify(state.storage.kv.get("socketIoConnections") ?? {}),
    );
    return !/:[1-9]/.test(counts);
  });
}

const hasEvent = (items: DeliveryItem[], event: string) =>
  items.some((item) => item.frames.some((f) => f.frame.startsWith(`{"event":"${event}"`)));

describe("Socket.IO delivery", () => {
  it("hands chat-token-received to a Socket.IO client exactly once when its hub fails and restarts before the delivery", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const sio = await RawSocketIo.connect(p.customer.jwt);
    let failed = 0;
    const restore = breakHubs((original, self, [source, items]) => {
      if (failed === 0 && hasEvent(items, "chat-token-received")) {
        failed++;
        // The hub goes away mid-delivery, forgetting everything it held in memory.
        for (let hub = 0; hub < 4; hub++) void evictDurableObject(sioHubStub(env, hub)).catch(() => {});
        return Promise.reject(new Error("injected hub restart"));
      }
      return original.call(self, source, items);
    });
    try {
      await pay(booking.id, p.admin);
      await sio.until((packets) => packets.some((p) => p.startsWith('42["chat-token-received"')), 8_000);
      // A while longer: nothing comes twice.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(failed).toBe(1);
      expect(sio.events("chat-token-received")).toHaveLength(1);
      expect(sio.events("chat-token-received")[0]).toMatchObject({ bookingId: booking.id, role: "customer" });
    } finally {
      restore();
      await closeAndRelease(sio, p.customer);
    }
  });

  it("lets a hung hub delay neither the booking's sockets nor the inbox's", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const sio = await RawSocketIo.connect(p.customer.jwt);
    const customerInbox = await inbox(p.customer);
    const providerInbox = await inbox(p.provider);
    const hung: Promise<void>[] = [];
    const restore = breakHubs(() => {
      const never = new Promise<void>(() => {});
      hung.push(never);
      return never.then(() => undefined);
    });
    try {
      const started = Date.now();
      await pay(booking.id, p.admin);
      await customerInbox.expect("chat-token-received");
      const accepted = await accept(booking.id, p.provider);
      await providerInbox.expect("booking-accepted-provider");
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(hung.length).toBeGreaterThan(0);
      const token = (await api("GET", `/chat/booking/${booking.id}/token`, { jwt: p.customer.jwt })).body as {
        chatToken: string;
      };
      const customer = await joined(booking.id, p.customer, token.chatToken);
      const provider = await joined(booking.id, p.provider, accepted.chatToken);
      const sentAt = Date.now();
      customer.send("booking-chat", { bookingId: booking.id, chatToken: token.chatToken, message: "quick" });
      expect((await provider.expect("booking-chat")).content).toBe("quick");
      expect(Date.now() - sentAt).toBeLessThan(1_000);
      customer.close();
      provider.close();
    } finally {
      restore();
      customerInbox.close();
      providerInbox.close();
      await closeAndRelease(sio, p.customer);
    }
  });
});
