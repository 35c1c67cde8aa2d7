import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AdminAuditResponse, AdminBookingsResponse, type Booking } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { settleD1 } from "./helpers/d1";
import { createBooking, type Parties, parties, pay } from "./helpers/flow";
import { newCustomer } from "./helpers/users";

async function list(jwt: string, query: string) {
  const res = await api("GET", `/chat/admin/bookings${query}`, { jwt });
  expect(res.status, res.text).toBe(200);
  return AdminBookingsResponse.parse(res.body);
}

/** Three bookings of one provider, each in D1. */
async function threeBookings(): Promise<{ p: Parties; created: Booking[] }> {
  const p = await parties();
  const created: Booking[] = [];
  for (let i = 0; i < 3; i++) {
    const booking = await createBooking(p);
    await settleD1(bookingRoom(env, booking.id));
    created.push(booking);
  }
  return { p, created };
}

const newestFirst = (bookings: Booking[]) =>
  [...bookings]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
    .map((b) => b.id);

describe("admin booking listing over D1", () => {
  it("lists a provider's bookings newest first, in pages that a new booking does not shift", async () => {
    const { p, created } = await threeBookings();
    const expected = newestFirst(created);

    const first = await list(p.admin.jwt, `?providerId=${p.provider.id}&limit=2`);
    expect(first.bookings.map((b) => b.id)).toEqual(expected.slice(0, 2));
    expect(first.bookings[0]).toMatchObject({ providerId: p.provider.id, status: "pending_payment" });
    expect(JSON.stringify(first)).not.toMatch(/token"/i);

    const later = await createBooking(p);
    await settleD1(bookingRoom(env, later.id));
    const second = await list(p.admin.jwt, `?providerId=${p.provider.id}&limit=2&cursor=${first.nextCursor}`);
    expect(second.bookings.map((b) => b.id)).toEqual(expected.slice(2));
    expect(second.nextCursor).toBeNull();

    const fresh = await list(p.admin.jwt, `?providerId=${p.provider.id}&limit=1`);
    expect(fresh.bookings.map((b) => b.id)).toEqual([later.id]);
  });

  it("filters by status and by customer, as the rooms last wrote them", async () => {
    const { p, created } = await threeBookings();
    const [paid] = created;
    if (!paid) throw new Error("no booking");
    await pay(paid.id, p.admin);
    await settleD1(bookingRoom(env, paid.id));

    const byStatus = await list(p.admin.jwt, `?providerId=${p.provider.id}&status=paid_to_escrow`);
    expect(byStatus.bookings.map((b) => [b.id, b.paymentStatus])).toEqual([[paid.id, "paid_to_escrow"]]);
    const byCustomer = await list(p.admin.jwt, `?customerId=${p.customer.id}`);
    expect(byCustomer.bookings).toHaveLength(3);
    const stranger = await newCustomer();
    expect((await list(p.admin.jwt, `?customerId=${stranger.id}`)).bookings).toEqual([]);
  });

  it("is for admins only, refuses bad parameters, and records each look", async () => {
    const p = await parties();
    for (const user of [p.customer, p.provider]) {
      const res = await api("GET", "/chat/admin/bookings", { jwt: user.jwt });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "forbidden" } });
    }
    for (const query of ["?cursor=not-a-cursor", "?status=lost", "?limit=0", "?bookingId=x"]) {
      const res = await api("GET", `/chat/admin/bookings${query}`, { jwt: p.admin.jwt });
      expect(res.status, query).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "invalid_request" } });
    }
    await list(p.admin.jwt, `?providerId=${p.provider.id}`);
    const audit = await api("GET", `/chat/admin/audit?adminId=${p.admin.id}`, { jwt: p.admin.jwt });
    const entries = AdminAuditResponse.parse(audit.body).entries;
    expect(entries.map((e) => [e.action, e.target])).toContainEqual([
      "bookings.list",
      JSON.stringify({ providerId: p.provider.id, limit: 50 }),
    ]);
  });
});
