import { describe, expect, it } from "vitest";
import { api } from "./helpers/api";
import { accept, activeChat, chatToken, createBooking, pay } from "./helpers/flow";
import { connect, inbox, openSocket, openSocketAt } from "./helpers/socket";
import { newAdmin, newCustomer, newProvider, type TestUser } from "./helpers/users";

type Who = "customer" | "provider" | "otherCustomer" | "otherProvider" | "admin" | "anonymous";
const WHO: Who[] = ["customer", "provider", "otherCustomer", "otherProvider", "admin", "anonymous"];

/** A booking of its own for every cell, so one cell's success never changes another's state. */
type Scene = Awaited<ReturnType<typeof activeChat>> & { otherCustomer: TestUser; otherProvider: TestUser };

async function scene(): Promise<Scene> {
  const chat = await activeChat();
  return { ...chat, otherCustomer: await newCustomer(), otherProvider: await newProvider() };
}

function user(s: Scene, who: Who): TestUser | null {
  return who === "anonymous" ? null : s[who];
}

type Row = {
  name: string;
  expected: Record<Who, number>;
  /** Performs the call as `caller` and returns the status. */
  call: (s: Scene, caller: TestUser | null) => Promise<number>;
  /** When the booking must be fresh (not yet paid or accepted). */
  fresh?: boolean;
};

const allow = (statuses: Partial<Record<Who, number>>, otherwise: number): Record<Who, number> => ({
  customer: otherwise,
  provider: otherwise,
  otherCustomer: otherwise,
  otherProvider: otherwise,
  admin: otherwise,
  anonymous: 401,
  ...statuses,
});

const http =
  (
    method: string,
    path: (s: Scene) => string,
    body?: unknown,
    headers?: (s: Scene) => Record<string, string>,
  ) =>
  async (s: Scene, caller: TestUser | null) =>
    (await api(method, path(s), { jwt: caller?.jwt, body, headers: headers?.(s) })).status;

const ROWS: Row[] = [
  {
    name: "POST /bookings",
    expected: allow({ customer: 201, otherCustomer: 201 }, 403),
    call: async (s, caller) =>
      (await api("POST", "/bookings", { jwt: caller?.jwt, body: { providerId: s.provider.id } })).status,
  },
  {
    name: "GET /bookings/:id",
    expected: allow({ customer: 200, provider: 200, admin: 200 }, 403),
    call: http("GET", (s) => `/bookings/${s.bookingId}`),
  },
  {
    name: "POST /bookings/:id/payment",
    expected: allow({ admin: 200 }, 403),
    call: http("POST", (s) => `/bookings/${s.bookingId}/payment`),
  },
  {
    name: "POST /bookings/:id/accept",
    expected: allow({ provider: 200 }, 403),
    call: http("POST", (s) => `/bookings/${s.bookingId}/accept`),
  },
  {
    name: "POST /bookings/:id/decline",
    fresh: true,
    expected: allow({ provider: 200 }, 403),
    call: http("POST", (s) => `/bookings/${s.bookingId}/decline`),
  },
  {
    name: "POST /bookings/:id/start",
    expected: allow({ provider: 200 }, 403),
    call: http("POST", (s) => `/bookings/${s.bookingId}/start`),
  },
  {
    name: "POST /bookings/:id/complete",
    expected: allow({ provider: 200, admin: 200 }, 403),
    call: http("POST", (s) => `/bookings/${s.bookingId}/complete`),
  },
  {
    name: "POST /bookings/:id/cancel",
    expected: allow({ customer: 200, provider: 200, admin: 200 }, 403),
    call: http("POST", (s) => `/bookings/${s.bookingId}/cancel`),
  },
  {
    name: "GET /chat/booking/:id/token",
    expected: allow({ customer: 200, provider: 200 }, 403),
    call: http("GET", (s) => `/chat/booking/${s.bookingId}/token`),
  },
  {
    name: "GET /chat/booking/:id (with the caller's own token, if any)",
    expected: allow({ customer: 200, provider: 200, admin: 200 }, 403),
    call: async (s, caller) => {
      const token =
        caller?.id === s.customer.id
          ? s.customerToken
          : caller?.id === s.provider.id
            ? s.providerToken
            : null;
      const headers: Record<string, string> = token ? { "X-Chat-Token": token } : {};
      return (await api("GET", `/chat/booking/${s.bookingId}`, { jwt: caller?.jwt, headers })).status;
    },
  },
  { name: "GET /chat/my-chats", expected: allow({}, 200), call: http("GET", () => "/chat/my-chats") },
  {
    name: "POST /chat/support/messages",
    expected: allow({ provider: 201, otherProvider: 201 }, 403),
    call: http("POST", () => "/chat/support/messages", { message: "help" }),
  },
  {
    name: "POST /chat/support/:providerId/messages (thread started)",
    expected: allow({ admin: 201 }, 403),
    call: async (s, caller) => {
      await api("POST", "/chat/support/messages", { jwt: s.provider.jwt, body: { message: "start" } });
      return (
        await api("POST", `/chat/support/${s.provider.id}/messages`, {
          jwt: caller?.jwt,
          body: { message: "hi" },
        })
      ).status;
    },
  },
  {
    name: "GET /chat/support/:providerId",
    expected: allow({ provider: 200, admin: 200 }, 403),
    call: http("GET", (s) => `/chat/support/${s.provider.id}`),
  },
  {
    name: "GET /chat/support",
    expected: allow({ admin: 200 }, 403),
    call: http("GET", () => "/chat/support"),
  },
  {
    name: "GET /chat/admin/messages",
    expected: allow({ admin: 200 }, 403),
    call: http("GET", () => "/chat/admin/messages"),
  },
  {
    name: "WS /bookings/:id/ws",
    expected: allow({ customer: 101, provider: 101, admin: 101 }, 403),
    call: async (s, caller) => {
      const { socket, response } = await openSocket(s.bookingId, caller);
      socket?.close();
      return response.status;
    },
  },
  {
    name: "WS /me/ws",
    expected: allow({}, 101),
    call: async (_s, caller) => {
      const { socket, response } = await openSocketAt("/me/ws", caller);
      socket?.close();
      return response.status;
    },
  },
  {
    name: "GET /admin/feed",
    expected: allow({ admin: 200 }, 403),
    call: async (_s, caller) => (await api("GET", "/admin/feed", { jwt: caller?.jwt })).status,
  },
  {
    name: "WS /admin/ws",
    expected: allow({ admin: 101 }, 403),
    call: async (_s, caller) => {
      const { socket, response } = await openSocketAt("/admin/ws?shard=0", caller);
      socket?.close();
      return response.status;
    },
  },
];

describe("authorization matrix", () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const actual: Partial<Record<Who, number>> = {};
      for (const who of WHO) {
        const s = await scene();
        if (row.fresh) {
          const booking = await createBooking(s);
          s.bookingId = booking.id;
        }
        actual[who] = await row.call(s, user(s, who));
      }
      expect(actual).toEqual(row.expected);
    });
  }

  it("booking socket events: only the parties send and mark read; admins watch", async () => {
    const s = await scene();
    const results: Record<string, string> = {};
    for (const who of ["customer", "provider", "admin"] as const) {
      const socket = await connect(s.bookingId, s[who]);
      const chatToken =
        who === "customer" ? s.customerToken : who === "provider" ? s.providerToken : undefined;
      socket.send("join-booking", { bookingId: s.bookingId, ...(chatToken ? { chatToken } : {}) });
      results[`${who} join`] = (await socket.next()).event;
      socket.send("booking-chat", {
        bookingId: s.bookingId,
        chatToken: chatToken ?? s.customerToken,
        message: who,
      });
      const sent = await socket.next();
      results[`${who} booking-chat`] = sent.event === "chat-error" ? sent.data.code : sent.event;
      socket.send("mark-read", { bookingId: s.bookingId, seq: 1 });
      await socket.barrier();
      const errors = socket.pending().filter((f) => f.event === "chat-error");
      results[`${who} mark-read`] = errors.length
        ? errors[0]?.event === "chat-error"
          ? errors[0].data.code
          : ""
        : "ok";
      socket.close();
    }
    expect(results).toEqual({
      "customer join": "booking-joined",
      "customer booking-chat": "booking-chat",
      "customer mark-read": "ok",
      "provider join": "booking-joined",
      "provider booking-chat": "booking-chat",
      "provider mark-read": "ok",
      "admin join": "booking-joined",
      "admin booking-chat": "not_authorized",
      "admin mark-read": "not_authorized",
    });
  });

  it("inbox support-chat: providers only", async () => {
    const s = await scene();
    const results: Partial<Record<Who, string>> = {};
    for (const who of ["customer", "provider", "otherCustomer", "otherProvider", "admin"] as const) {
      const socket = await inbox(s[who]);
      socket.send("support-chat", { message: `from ${who}` });
      const reply = await socket.next();
      results[who] = reply.event === "chat-error" ? reply.data.code : reply.event;
      socket.close();
    }
    expect(results).toEqual({
      customer: "forbidden",
      provider: "support-chat",
      otherCustomer: "forbidden",
      otherProvider: "support-chat",
      admin: "not_authorized",
    });
  });

  it("a paid booking cannot be paid into a second token, nor accepted by another provider", async () => {
    const s = await scene();
    const fresh = await createBooking(s);
    await pay(fresh.id, s.admin);
    const token = await chatToken(fresh.id, s.customer);

    // Paying again is a repeat, not a new payment: the customer's chat token stays the same.
    const again = await api("POST", `/bookings/${fresh.id}/payment`, { jwt: s.admin.jwt });
    expect(again.status).toBe(200);
    expect(await chatToken(fresh.id, s.customer)).toBe(token);

    const admin = await newAdmin();
    for (const user of [s.otherProvider, admin]) {
      const res = await api("POST", `/bookings/${fresh.id}/accept`, { jwt: user.jwt });
      expect(res.status, user.role).toBe(403);
      expect(res.body, user.role).toMatchObject({ error: { code: "forbidden" } });
    }
    // The booking's own provider still can.
    expect((await accept(fresh.id, s.provider)).booking).toMatchObject({ providerAccepted: true });
  });
});
