import { env } from "cloudflare:workers";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { api, field } from "./helpers/api";
import { accept, createBooking, parties, pay } from "./helpers/flow";
import { connect } from "./helpers/socket";
import { signUserJwt } from "./helpers/users";

/** The payment provider's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
const sign = (body: string, at = Math.floor(Date.now() / 1000)) =>
  `t=${at},v1=${createHmac("sha256", env.PAYMENT_WEBHOOK_SECRET).update(`${at}.${body}`).digest("hex")}`;

async function act(action: string, bookingId: string, jwt: string) {
  return api("POST", `/bookings/${bookingId}/${action}`, { jwt });
}

describe("opening the chat", () => {
  it("opens once payment and then acceptance are in, telling each party only what is theirs", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const customer = await connect(booking.id, p.customer);
    const provider = await connect(booking.id, p.provider);

    await pay(booking.id, p.admin);
    const token = await customer.expect("chat-token-received");
    // The seed's payload: whether the chat is open yet (not until the provider accepts).
    expect(token).toMatchObject({ bookingId: booking.id, role: "customer", chatActive: false });

    const accepted = await accept(booking.id, p.provider);
    expect(accepted).toMatchObject({
      waitingForPayment: false,
      booking: { status: "confirmed", chatActive: true },
    });
    expect(await provider.expect("booking-accepted-provider")).toMatchObject({
      chatToken: accepted.chatToken,
      waitingForPayment: false,
    });
    expect(await provider.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });
    expect(await customer.expect("booking-accepted")).toMatchObject({ bookingId: booking.id });
    expect(await customer.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });

    // The customer never saw the provider's token, nor the provider the customer's.
    expect(JSON.stringify(customer.received)).not.toContain(accepted.chatToken);
    expect(JSON.stringify(provider.received)).not.toContain(token.chatToken);
    customer.close();
    provider.close();
  });

  it("opens when the provider accepts first and payment comes later", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const customer = await connect(booking.id, p.customer);
    const provider = await connect(booking.id, p.provider);

    const accepted = await accept(booking.id, p.provider);
    expect(accepted).toMatchObject({
      waitingForPayment: true,
      booking: { status: "confirmed", chatActive: false },
    });
    expect(await provider.expect("booking-accepted-provider")).toMatchObject({ waitingForPayment: true });
    expect(await customer.expect("booking-accepted")).toMatchObject({ bookingId: booking.id });

    const paid = await pay(booking.id, p.admin);
    // Paying an accepted booking keeps it confirmed; the payment status moves to escrow.
    expect(paid).toMatchObject({ status: "confirmed", paymentStatus: "paid_to_escrow", chatActive: true });
    expect(await customer.expect("chat-token-received")).toMatchObject({
      bookingId: booking.id,
      chatActive: true,
    });
    expect(await customer.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });
    expect(await provider.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });
    customer.close();
    provider.close();
  });

  it("announces chatroom-ready exactly once when payment and acceptance race", async () => {
    for (let round = 0; round < 5; round++) {
      const p = await parties();
      const booking = await createBooking(p);
      const customer = await connect(booking.id, p.customer);
      const provider = await connect(booking.id, p.provider);
      const body = JSON.stringify({ bookingId: booking.id });

      const [paid, accepted] = await Promise.all([
        api("POST", `/bookings/${booking.id}/payment`, {
          rawBody: body,
          headers: { "X-Signature": sign(body) },
        }),
        api("POST", `/bookings/${booking.id}/accept`, { jwt: p.provider.jwt }),
        api("POST", `/bookings/${booking.id}/payment`, { jwt: p.admin.jwt }),
      ]);
      expect(paid.status).toBe(200);
      expect(accepted.status).toBe(200);

      await customer.barrier();
      await provider.barrier();
      expect(customer.all("chat-token-received")).toHaveLength(1);
      expect(customer.all("booking-accepted")).toHaveLength(1);
      expect(customer.all("chatroom-ready")).toEqual([{ bookingId: booking.id, chatActive: true }]);
      expect(provider.all("booking-accepted-provider")).toHaveLength(1);
      expect(provider.all("chatroom-ready")).toEqual([{ bookingId: booking.id, chatActive: true }]);
      const view = await api("GET", `/bookings/${booking.id}`, { jwt: p.customer.jwt });
      expect(field(view.body, "booking")).toMatchObject({ status: "confirmed", chatActive: true });
      customer.close();
      provider.close();
    }
  });
});

describe("payment confirmation", () => {
  it("accepts a correctly signed webhook and is idempotent", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const customer = await connect(booking.id, p.customer);
    const body = JSON.stringify({ bookingId: booking.id, paymentReference: "pay-123" });
    const headers = { "X-Signature": sign(body), "Content-Type": "application/json" };

    const first = await api("POST", `/bookings/${booking.id}/payment`, { rawBody: body, headers });
    expect(first.status).toBe(200);
    expect(field(first.body, "booking", "paymentStatus")).toBe("paid_to_escrow");
    const again = await api("POST", `/bookings/${booking.id}/payment`, { rawBody: body, headers });
    expect(again.status).toBe(200);
    expect(field(again.body, "booking")).toEqual(field(first.body, "booking"));

    await customer.barrier();
    expect(customer.all("chat-token-received")).toHaveLength(1);
    customer.close();
  });

  it("refuses a webhook whose signature does not match its body", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const body = JSON.stringify({ bookingId: booking.id });
    const forged = await api("POST", `/bookings/${booking.id}/payment`, {
      rawBody: `${body} `,
      headers: { "X-Signature": sign(body) },
    });
    expect(forged.status).toBe(401);
    expect(field(forged.body, "error", "code")).toBe("invalid_signature");
    const garbage = await api("POST", `/bookings/${booking.id}/payment`, {
      rawBody: body,
      headers: { "X-Signature": "sha256=00" },
    });
    expect(garbage.status).toBe(401);
    const view = await api("GET", `/bookings/${booking.id}`, { jwt: p.customer.jwt });
    expect(field(view.body, "booking", "paymentStatus")).toBe("pending");
  });

  it("refuses a captured webhook replayed after five minutes, and signatures without a timestamp", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const body = JSON.stringify({ bookingId: booking.id });
    const now = Math.floor(Date.now() / 1000);
    const legacy = `sha256=${createHmac("sha256", env.PAYMENT_WEBHOOK_SECRET).update(body).digest("hex")}`;
    for (const signature of [sign(body, now - 301), sign(body, now + 301), legacy, `t=${now},v1=00`]) {
      const res = await api("POST", `/bookings/${booking.id}/payment`, {
        rawBody: body,
        headers: { "X-Signature": signature },
      });
      expect(res.status, signature).toBe(401);
      expect(field(res.body, "error", "code")).toBe("invalid_signature");
    }
    // The same body, signed now, goes through.
    const fresh = await api("POST", `/bookings/${booking.id}/payment`, {
      rawBody: body,
      headers: { "X-Signature": sign(body, now - 60) },
    });
    expect(fresh.status, fresh.text).toBe(200);
  });

  it("refuses a signed webhook body that does not name its booking, so it cannot be replayed elsewhere", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    for (const body of ["", "{}", JSON.stringify({ paymentReference: "pay-1" })]) {
      const res = await api("POST", `/bookings/${booking.id}/payment`, {
        rawBody: body,
        headers: { "X-Signature": sign(body) },
      });
      expect(res.status, body).toBe(400);
    }
  });

  it("refuses a signed webhook for another booking than the URL's", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const body = JSON.stringify({ bookingId: "some-other-booking" });
    const res = await api("POST", `/bookings/${booking.id}/payment`, {
      rawBody: body,
      headers: { "X-Signature": sign(body) },
    });
    expect(res.status).toBe(400);
  });

  it("lets only admins confirm payment with a JWT", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    for (const user of [p.customer, p.provider]) {
      const res = await api("POST", `/bookings/${booking.id}/payment`, { jwt: user.jwt });
      expect(res.status).toBe(403);
    }
    const anonymous = await api("POST", `/bookings/${booking.id}/payment`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect((await api("POST", `/bookings/${booking.id}/payment`, { jwt: p.admin.jwt })).status).toBe(200);
  });

  it("answers 404 for an unknown booking", async () => {
    const p = await parties();
    const res = await api("POST", `/bookings/${crypto.randomUUID()}/payment`, { jwt: p.admin.jwt });
    expect(res.status).toBe(404);
    expect(field(res.body, "error", "code")).toBe("booking_not_found");
  });
});

describe("ending the chat", () => {
  it("terminates on cancel, for everyone connected, and refuses messages after", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    const { chatToken } = await accept(booking.id, p.provider);
    const provider = await connect(booking.id, p.provider);
    const admin = await connect(booking.id, p.admin);
    provider.send("join-booking", { bookingId: booking.id, chatToken });
    await provider.expect("booking-joined");

    const cancelled = await act("cancel", booking.id, p.customer.jwt);
    expect(cancelled.status).toBe(200);
    expect(field(cancelled.body, "booking")).toMatchObject({
      status: "cancelled",
      chatActive: false,
      chatTerminatedAt: expect.any(String),
      chatTerminationReason: "cancelled",
    });
    for (const socket of [provider, admin]) {
      expect(await socket.expect("chat-terminated")).toMatchObject({
        bookingId: booking.id,
        reason: "cancelled",
      });
    }
    provider.send("booking-chat", { bookingId: booking.id, chatToken, message: "still there?" });
    expect(await provider.expect("chat-error")).toMatchObject({ code: "chat_terminated" });
    provider.close();
    admin.close();
  });

  it("terminates on decline before acceptance, and declining after accepting is refused", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const customer = await connect(booking.id, p.customer);
    await pay(booking.id, p.admin);
    const declined = await act("decline", booking.id, p.provider.jwt);
    expect(declined.status).toBe(200);
    expect(field(declined.body, "booking", "status")).toBe("declined");
    await customer.expect("chat-token-received");
    expect(await customer.expect("chat-terminated")).toMatchObject({ reason: "declined" });
    customer.close();

    const other = await parties();
    const second = await createBooking(other);
    await accept(second.id, other.provider);
    const late = await act("decline", second.id, other.provider.jwt);
    expect(late.status).toBe(409);
    expect(field(late.body, "error", "code")).toBe("already_accepted");
  });

  it("starts and completes only a confirmed, paid job", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const early = await act("start", booking.id, p.provider.jwt);
    expect(early.status).toBe(409);
    expect(field(early.body, "error", "code")).toBe("not_accepted");
    await accept(booking.id, p.provider);
    const unpaid = await act("complete", booking.id, p.provider.jwt);
    expect(unpaid.status).toBe(409);
    expect(field(unpaid.body, "error", "code")).toBe("payment_required");
    await pay(booking.id, p.admin);

    expect((await act("start", booking.id, p.customer.jwt)).status).toBe(403);
    const started = await act("start", booking.id, p.provider.jwt);
    expect(field(started.body, "booking", "status")).toBe("in_progress");
    const twice = await act("start", booking.id, p.provider.jwt);
    expect(twice.status).toBe(409);
    expect(field(twice.body, "error", "code")).toBe("invalid_transition");

    expect((await act("complete", booking.id, p.customer.jwt)).status).toBe(403);
    const completed = await act("complete", booking.id, p.admin.jwt);
    expect(field(completed.body, "booking")).toMatchObject({ status: "completed", chatActive: false });

    for (const action of ["cancel", "accept", "start", "complete", "decline"]) {
      const res = await act(action, booking.id, action === "cancel" ? p.customer.jwt : p.provider.jwt);
      expect(res.status, action).toBe(409);
      expect(field(res.body, "error", "code"), action).toBe("booking_closed");
    }
    const payment = await api("POST", `/bookings/${booking.id}/payment`, { jwt: p.admin.jwt });
    expect(payment.status).toBe(200);
  });

  for (const [ending, by] of [
    ["cancel", "customer"],
    ["decline", "provider"],
  ] as const) {
    it(`refuses every lifecycle action after a ${ending}, whoever may otherwise take it`, async () => {
      const p = await parties();
      const booking = await createBooking(p);
      expect((await act(ending, booking.id, p[by].jwt)).status).toBe(200);
      const attempts = [
        ["payment", p.admin],
        ["accept", p.provider],
        ["decline", p.provider],
        ["start", p.provider],
        ["complete", p.provider],
        ["complete", p.admin],
        ["cancel", p.customer],
        ["cancel", p.admin],
      ] as const;
      for (const [action, user] of attempts) {
        const res = await act(action, booking.id, user.jwt);
        expect(res.status, `${action} by ${user.role}`).toBe(409);
        expect(field(res.body, "error", "code"), `${action} by ${user.role}`).toBe("booking_closed");
      }
      const after = await api("GET", `/bookings/${booking.id}`, { jwt: p.admin.jwt });
      expect(field(after.body, "booking", "status")).toBe(ending === "cancel" ? "cancelled" : "declined");
    });
  }

  it("never reopens a terminated chat, even when the missing token arrives later", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    await accept(booking.id, p.provider);
    await act("cancel", booking.id, p.admin.jwt);
    const payment = await api("POST", `/bookings/${booking.id}/payment`, { jwt: p.admin.jwt });
    expect(payment.status).toBe(409);
    expect(field(payment.body, "error", "code")).toBe("booking_closed");
  });
});

describe("bookings over HTTP", () => {
  it("creates a booking for a customer and validates the body", async () => {
    const p = await parties();
    const created = await api("POST", "/bookings", {
      jwt: p.customer.jwt,
      body: { providerId: p.provider.id, scheduledAt: "2026-12-01T09:00:00Z", notes: "Gate code 42" },
    });
    expect(created.status).toBe(201);
    expect(field(created.body, "booking")).toMatchObject({
      customerId: p.customer.id,
      providerId: p.provider.id,
      status: "pending_payment",
      paymentStatus: "pending",
      scheduledAt: "2026-12-01T09:00:00Z",
    });
    expect(String(field(created.body, "booking", "id"))).not.toContain("_");

    const bad = [
      { providerId: "has_underscore" },
      { providerId: 42 },
      {},
      { providerId: p.provider.id, scheduledAt: "tomorrow" },
      { providerId: p.provider.id, extra: true },
      { providerId: p.customer.id },
    ];
    for (const body of bad) {
      const res = await api("POST", "/bookings", { jwt: p.customer.jwt, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(field(res.body, "error", "code")).toBe("invalid_request");
    }
    const notJson = await api("POST", "/bookings", { jwt: p.customer.jwt, rawBody: "{nope" });
    expect(notJson.status).toBe(400);

    for (const user of [p.provider, p.admin]) {
      const res = await api("POST", "/bookings", { jwt: user.jwt, body: { providerId: "someone" } });
      expect(res.status).toBe(403);
    }
  });

  it("shows a booking to its parties and admins only, and never its chat tokens", async () => {
    const p = await parties();
    const stranger = await parties();
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    const { chatToken } = await accept(booking.id, p.provider);

    for (const user of [p.customer, p.provider, p.admin]) {
      const res = await api("GET", `/bookings/${booking.id}`, { jwt: user.jwt });
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(chatToken);
      expect(res.text).not.toMatch(/_customer_|_provider_|chatToken/);
    }
    for (const user of [stranger.customer, stranger.provider]) {
      const res = await api("GET", `/bookings/${booking.id}`, { jwt: user.jwt });
      expect(res.status).toBe(403);
    }
    // The provider's id with a customer's role is not the provider.
    const impostor = await api("GET", `/bookings/${booking.id}`, {
      jwt: await signUserJwt(p.provider.id, "customer"),
    });
    expect(impostor.status).toBe(403);
    expect((await api("GET", `/bookings/${crypto.randomUUID()}`, { jwt: p.admin.jwt })).status).toBe(404);
    expect((await api("GET", "/bookings/bad_id", { jwt: p.admin.jwt })).status).toBe(400);
  });
});
