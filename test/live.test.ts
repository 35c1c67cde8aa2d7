import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meterSnapshot } from "../src/metering/meter";
import { bookingRoom } from "../src/rooms";
import { settleD1 } from "./helpers/d1";
import { activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";
import { RawSocketIo } from "./helpers/socket-io";

// The live path: typing and presence reach whoever is connected now, on every transport, and cost
// no row, no alarm and no D1 write.

type Online = { userId: string; role: string }[];

const party = (id: string, role: "customer" | "provider") => ({ userId: id, role });

/** Waits until `read()` holds a value `accept` likes. */
async function eventually<T>(
  read: () => T | undefined,
  accept: (value: T) => boolean = () => true,
): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = read();
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("typing", () => {
  it("reaches the other party and admins watching, never the sender, and costs no row, alarm or D1 write", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const admin = await joined(chat.bookingId, chat.admin);
    await settleD1(bookingRoom(env, chat.bookingId));
    const before = meterSnapshot();
    customer.send("typing", { bookingId: chat.bookingId, isTyping: true });
    expect(await provider.expect("typing")).toEqual({
      bookingId: chat.bookingId,
      userId: chat.customer.id,
      role: "customer",
      isTyping: true,
    });
    expect((await admin.expect("typing")).userId).toBe(chat.customer.id);
    await customer.barrier();
    expect(customer.all("typing")).toEqual([]);
    const after = meterSnapshot();
    for (const counter of ["rowsWritten", "alarmsSet", "d1RowsWritten"] as const) {
      expect(after.BookingRoom?.[counter] ?? 0, counter).toBe(before.BookingRoom?.[counter] ?? 0);
    }
    for (const s of [customer, provider, admin]) s.close();
  });

  it("drops what comes faster than twice a second, without an answer", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    for (let i = 0; i < 10; i++)
      customer.send("typing", { bookingId: chat.bookingId, isTyping: i % 2 === 0 });
    await customer.barrier();
    await provider.barrier();
    const heard = provider.all("typing").map((t) => t.isTyping);
    expect(heard.filter((t) => t)).toHaveLength(2);
    expect(heard.length).toBeLessThanOrEqual(4);
    expect(heard.at(-1)).toBe(false);
    expect(customer.received.filter((f) => f.event === "chat-error")).toEqual([]);
    customer.close();
    provider.close();
  });

  it("lets a stop through after quick starts, so the other party never keeps seeing 'typing…'", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    // Two messages sent quickly: typing starts twice, then stops when the box empties.
    customer.send("typing", { bookingId: chat.bookingId, isTyping: true });
    customer.send("typing", { bookingId: chat.bookingId, isTyping: true });
    customer.send("typing", { bookingId: chat.bookingId, isTyping: false });
    await customer.barrier();
    await provider.barrier();
    expect(provider.all("typing").map((t) => t.isTyping)).toEqual([true, true, false]);
    customer.close();
    provider.close();
  });

  it("is refused to an admin and to a socket that has not joined", async () => {
    const chat = await activeChat();
    const admin = await joined(chat.bookingId, chat.admin);
    admin.send("typing", { bookingId: chat.bookingId, isTyping: true });
    expect(await admin.expect("chat-error")).toMatchObject({ code: "not_authorized" });
    admin.close();
  });

  it("goes between a native socket and a Socket.IO connection, both ways", async () => {
    const chat = await activeChat();
    const native = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const sio = await RawSocketIo.connect(chat.provider.jwt);
    await sio.emitWithAck("join-booking", { bookingId: chat.bookingId, chatToken: chat.providerToken }, 1);
    native.send("typing", { bookingId: chat.bookingId, isTyping: true });
    expect(await eventually(() => sio.events("typing")[0])).toEqual({
      bookingId: chat.bookingId,
      userId: chat.customer.id,
      role: "customer",
      isTyping: true,
    });
    sio.emit("typing", { bookingId: chat.bookingId, isTyping: false });
    expect(await native.expect("typing")).toMatchObject({ userId: chat.provider.id, isTyping: false });
    // Never back to its sender.
    await native.barrier();
    expect(sio.events("typing")).toHaveLength(1);
    native.close();
    sio.close();
  });
});

describe("presence", () => {
  it("answers a join with who is online, and tells the others when someone joins or leaves; admins never listed", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    expect((await customer.expect("presence")).online).toEqual([party(chat.customer.id, "customer")]);
    const admin = await joined(chat.bookingId, chat.admin);
    expect((await admin.expect("presence")).online).toEqual([party(chat.customer.id, "customer")]);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const both = [party(chat.customer.id, "customer"), party(chat.provider.id, "provider")];
    expect((await provider.expect("presence")).online).toEqual(both);
    expect((await customer.expect("presence")).online).toEqual(both);
    expect((await admin.expect("presence")).online).toEqual(both);
    provider.close();
    expect((await customer.expect("presence")).online).toEqual([party(chat.customer.id, "customer")]);
    expect((await admin.expect("presence")).online).toEqual([party(chat.customer.id, "customer")]);
    // The admin's own coming and going is never announced.
    admin.close();
    await customer.barrier();
    expect(customer.all("presence").length).toBe(3);
    customer.close();
  });

  it("counts Socket.IO connections, and is right again after the room was evicted", async () => {
    const chat = await activeChat();
    const sio = await RawSocketIo.connect(chat.provider.jwt);
    await sio.emitWithAck("join-booking", { bookingId: chat.bookingId, chatToken: chat.providerToken }, 1);
    expect((sio.events("presence")[0] as { online: Online }).online).toEqual([
      party(chat.provider.id, "provider"),
    ]);
    await evictDurableObject(bookingRoom(env, chat.bookingId));
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const both = [party(chat.customer.id, "customer"), party(chat.provider.id, "provider")];
    expect((await customer.expect("presence")).online).toEqual(both);
    const heard = await eventually(
      () => sio.events("presence").at(-1) as { online: Online } | undefined,
      (p) => p.online.length === 2,
    );
    expect(heard.online).toEqual(both);
    // The Socket.IO connection goes: the native socket hears it.
    sio.close();
    const left = await customer.expect("presence");
    expect(left.online).toEqual([party(chat.customer.id, "customer")]);
    customer.close();
  });
});
