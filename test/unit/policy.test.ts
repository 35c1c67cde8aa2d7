import { describe, expect, it } from "vitest";
import type { BookingRecord } from "../../src/booking-room/booking-store";
import { authorize, type Caller } from "../../src/booking-room/policy";

const booking = { id: "b1", customerId: "alice", providerId: "bob" } as BookingRecord;
const caller = (userId: string, role: Caller["role"]): Caller => ({
  connectionId: "s",
  userId,
  role,
  joined: true,
  jwtExpiresAt: Number.MAX_SAFE_INTEGER,
});

describe("who may do what in a booking's chat (policy.ts)", () => {
  it("tells an admin that watching marks nothing, and anyone else that they are not a participant", () => {
    const admin = authorize("mark-read", caller("root", "admin"), booking, { bookingId: "b1" });
    const stranger = authorize("mark-read", caller("mallory", "customer"), booking, { bookingId: "b1" });
    expect(admin).toMatchObject({
      code: "not_authorized",
      message: expect.stringContaining("Admins can watch"),
    });
    expect(stranger).toEqual({ code: "not_authorized", message: "Not a participant of this booking" });
  });

  it("lets a party move its own cursor, and admins only join", () => {
    expect(authorize("mark-read", caller("alice", "customer"), booking, { bookingId: "b1" })).toEqual({
      party: "customer",
    });
    expect(authorize("join-booking", caller("root", "admin"), booking, { bookingId: "b1" })).toEqual({
      party: null,
    });
    for (const event of ["booking-chat", "typing"] as const) {
      expect(authorize(event, caller("root", "admin"), booking, { bookingId: "b1" })).toMatchObject({
        code: "not_authorized",
      });
    }
  });
});
