import { beforeEach, describe, expect, it } from "vitest";
import { api } from "./helpers/api";
import { createBooking, parties } from "./helpers/flow";
import { inOneRateWindow, RATE_WINDOW_TEST_TIMEOUT_MS } from "./helpers/rate-window";
import { newCustomer, newProvider } from "./helpers/users";

const HOUR_LIMITS = {
  bookingsPerCustomer: 10,
  bookingsPerProvider: 30,
  supportPostsPerProvider: 20,
  paymentAttemptsPerBooking: 10,
};

function expectRateLimited(res: { status: number; headers: Headers; body: unknown }) {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ error: { code: "rate_limited" } });
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
}

describe("routes that write are throttled per user", () => {
  beforeEach(() => inOneRateWindow(), RATE_WINDOW_TEST_TIMEOUT_MS);

  it("limits how many bookings one customer creates in a minute", async () => {
    const customer = await newCustomer();
    const statuses: number[] = [];
    for (let i = 0; i <= HOUR_LIMITS.bookingsPerCustomer; i++) {
      const provider = await newProvider();
      const res = await api("POST", "/bookings", { jwt: customer.jwt, body: { providerId: provider.id } });
      statuses.push(res.status);
      if (i === HOUR_LIMITS.bookingsPerCustomer) expectRateLimited(res);
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(HOUR_LIMITS.bookingsPerCustomer);
  });

  it("limits how many bookings can name one provider in a minute, whoever makes them", async () => {
    const provider = await newProvider();
    let refused = null;
    for (let i = 0; i <= HOUR_LIMITS.bookingsPerProvider; i++) {
      const customer = await newCustomer();
      const res = await api("POST", "/bookings", { jwt: customer.jwt, body: { providerId: provider.id } });
      if (res.status !== 201) refused = res;
    }
    expect(refused).not.toBeNull();
    if (refused) expectRateLimited(refused);
  });

  it("limits support posts over HTTP as the socket does", async () => {
    const provider = await newProvider();
    let last = null;
    for (let i = 0; i <= HOUR_LIMITS.supportPostsPerProvider; i++) {
      last = await api("POST", "/chat/support/messages", {
        jwt: provider.jwt,
        body: { message: `help ${i}` },
      });
    }
    if (last) expectRateLimited(last);
  });

  it("limits payment attempts per booking", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    let last = null;
    for (let i = 0; i <= HOUR_LIMITS.paymentAttemptsPerBooking; i++) {
      last = await api("POST", `/bookings/${booking.id}/payment`, { jwt: p.admin.jwt });
    }
    if (last) expectRateLimited(last);
  });
});

describe("bodies", () => {
  it("are refused over 64 KiB before any other work, the payment webhook included", async () => {
    const big = JSON.stringify({ bookingId: "b", pad: "x".repeat(70 * 1024) });
    const payment = await api("POST", "/bookings/anything/payment", {
      rawBody: big,
      headers: { "Content-Type": "application/json", "X-Signature": "t=1,v1=00" },
    });
    expect(payment.status).toBe(413);
    expect(payment.body).toMatchObject({ error: { code: "payload_too_large" } });
    const customer = await newCustomer();
    const booking = await api("POST", "/bookings", { jwt: customer.jwt, rawBody: big });
    expect(booking.status).toBe(413);
  });
});
