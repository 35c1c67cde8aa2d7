import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawWebSocket } from "./raw-websocket";
import { activeChat, runningService, type Service } from "./service";

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
    const chat = await activeChat(base);
    const { customerId, providerId, customer, provider } = chat;
    const url = `${base.replace("http", "ws")}/bookings/${chat.bookingId}/ws`;
    // The provider on an ordinary WebSocket, listening.
    const listener = new WebSocket(url, ["spana-chat.v1", `bearer.${provider}`]);
    const heard: Frame[] = [];
    listener.addEventListener("message", (e) => heard.push(JSON.parse(String(e.data))));
    await new Promise((resolve) => listener.addEventListener("open", resolve, { once: true }));
    listener.send(
      JSON.stringify({
        event: "join-booking",
        data: { bookingId: chat.bookingId, chatToken: chat.providerToken },
      }),
    );
    // The customer on a socket that will vanish.
    const phone = await RawWebSocket.open(url, ["spana-chat.v1", `bearer.${customer}`]);
    phone.send(
      JSON.stringify({
        event: "join-booking",
        data: { bookingId: chat.bookingId, chatToken: chat.customerToken },
      }),
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
