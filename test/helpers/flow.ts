import { expect } from "vitest";
import { type AcceptResponse, Booking, type ChatTokenResponse } from "../../src/protocol";
import { api } from "./api";
import { newAdmin, newCustomer, newProvider, type TestUser } from "./users";

export type Parties = { customer: TestUser; provider: TestUser; admin: TestUser };

export async function parties(): Promise<Parties> {
  const [customer, provider, admin] = await Promise.all([newCustomer(), newProvider(), newAdmin()]);
  return { customer, provider, admin };
}

export async function createBooking(p: Parties): Promise<Booking> {
  const res = await api("POST", "/bookings", {
    jwt: p.customer.jwt,
    body: { providerId: p.provider.id, serviceId: "plumbing", notes: "Leaky tap" },
  });
  expect(res.status, res.text).toBe(201);
  return Booking.parse((res.body as { booking: unknown }).booking);
}

export async function pay(bookingId: string, admin: TestUser): Promise<Booking> {
  const res = await api("POST", `/bookings/${bookingId}/payment`, { jwt: admin.jwt });
  expect(res.status, res.text).toBe(200);
  return Booking.parse((res.body as { booking: unknown }).booking);
}

export async function accept(bookingId: string, provider: TestUser): Promise<AcceptResponse> {
  const res = await api("POST", `/bookings/${bookingId}/accept`, { jwt: provider.jwt });
  expect(res.status, res.text).toBe(200);
  return res.body as AcceptResponse;
}

export async function chatToken(bookingId: string, user: TestUser): Promise<string> {
  const res = await api("GET", `/chat/booking/${bookingId}/token`, { jwt: user.jwt });
  expect(res.status, res.text).toBe(200);
  return (res.body as ChatTokenResponse).chatToken;
}

export type ActiveChat = Parties & { bookingId: string; customerToken: string; providerToken: string };

/**
 * A booking that is paid and accepted: the chat is active and both parties hold tokens. `with`
 * reuses some of the people (the same customer in several bookings, say).
 */
export async function activeChat(with_: Partial<Parties> = {}): Promise<ActiveChat> {
  const p = { ...(await parties()), ...with_ };
  const booking = await createBooking(p);
  await pay(booking.id, p.admin);
  const accepted = await accept(booking.id, p.provider);
  return {
    ...p,
    bookingId: booking.id,
    customerToken: await chatToken(booking.id, p.customer),
    providerToken: accepted.chatToken,
  };
}
