import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcceptResponse, BookingResponse, ChatTokenResponse } from "../../src/protocol";
import { RawWebSocket } from "./raw-websocket";
import { call, runningService, type Service, uniqueId, userJwt } from "./service";

let service: Service;

beforeAll(async () => {
  service = await runningService();
});

afterAll(async () => {
  await service?.stop();
});

type Frame = { event: string; data: { online?: { userId: string }[] } };

describe("presence", () => {
  it("tells the other party when a socket dies without a close", async () => {
    const base = service.base;
    const customerId = uniqueId("alice");
    const providerId = uniqueId("bob");
    const customer = await userJwt("customer", customerId);
    const provider = await userJwt("service_provider", providerId);
    const admin = await userJwt("admin", "payments");
    const { booking } = await call(base, "POST", "/bookings", customer, {
      status: 201,
      schema: BookingResponse,
      body: { providerId },
    });
    await call(base, "POST", `/bookings/${booking.id}/payment`, admin, {
      status: 200,
      schema: BookingResponse,
    });
    const accepted = await call(base, "POST", `/bookings/${booking.id}/accept`, provider, {
      status: 200,
      schema: AcceptResponse,
    });
    const token = await call(base, "GET", `/chat/booking/${booking.id}/token`, customer, {
      status: 200,
      schema: ChatTokenResponse,
    });
    const url = `${base.replace("http", "ws")}/bookings/${booking.id}/ws`;
    // The provider on an ordinary WebSocket, listening.
    const listener = new WebSocket(url, ["spana-chat.v1", `bearer.${provider}`]);
    const heard: Frame[] = [];
    listener.addEventListener("message", (e) => heard.push(JSON.parse(String(e.data))));
    await new Promise((resolve) => listener.addEventListener("open", resolve, { once: true }));
    listener.send(
      JSON.stringify({
        event: "join-booking",
        data: { bookingId: booking.id, chatToken: accepted.chatToken },
      }),
    );
    // The customer on a socket that will vanish.
    const phone = await RawWebSocket.open(url, ["spana-chat.v1", `bearer.${customer}`]);
    phone.send(
      JSON.stringify({ event: "join-booking", data: { bookingId: booking.id, chatToken: token.chatToken } }),
    );
    const online = () =>
      heard
        .filter((f) => f.event === "presence")
        .at(-1)
        ?.data.online?.map((o) => o.userId);
    await expect.poll(online, { timeout: 5_000 }).toEqual([customerId, providerId]);
    phone.drop();
    await expect.poll(online, { timeout: 5_000 }).toEqual([providerId]);
    listener.close();
  });
});
