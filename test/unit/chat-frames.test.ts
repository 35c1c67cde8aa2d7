import { describe, expect, it } from "vitest";
import type { BookingRecord } from "../../src/booking-room/booking-store";
import { markRead } from "../../src/booking-room/chat-frames";
import type { MessageLog } from "../../src/conversation/message-log";
import { ChatError } from "../../src/sockets/frames";
import type { SocketState } from "../../src/sockets/socket-state";

const booking = { id: "b1", customerId: "alice", providerId: "bob" } as BookingRecord;
const log = { lastSeq: () => 3 } as MessageLog;
const state = (userId: string, role: SocketState["role"]): SocketState => ({
  v: 1,
  id: "s",
  userId,
  role,
  joined: true,
  jwtExpiresAt: Number.MAX_SAFE_INTEGER,
});

describe("mark-read refusals say who the reader is not", () => {
  it("tells an admin that watching marks nothing, and anyone else that they are not a participant", () => {
    const admin = markRead(booking, state("root", "admin"), { bookingId: "b1", seq: 1 }, log);
    const stranger = markRead(booking, state("mallory", "customer"), { bookingId: "b1", seq: 1 }, log);
    expect(admin).toBeInstanceOf(ChatError);
    expect(stranger).toBeInstanceOf(ChatError);
    expect((admin as ChatError).message).toContain("Admins can watch");
    expect(stranger).toMatchObject({ code: "not_authorized", message: "Not a participant of this booking" });
  });

  it("lets a party move its own cursor", () => {
    expect(markRead(booking, state("alice", "customer"), { bookingId: "b1", seq: 2 }, log)).toEqual({
      party: "customer",
      seq: 2,
    });
  });
});
