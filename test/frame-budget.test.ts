import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meter } from "../src/metering/meter";
import { activeChat } from "./helpers/flow";
import { adminFeed, inbox, joined } from "./helpers/socket";
import { newProvider } from "./helpers/users";

// Every frame a socket sends counts against its budget, whatever it is; past the budget frames
// are dropped unread, and a socket that keeps going is closed with 4429.

const BURST = Number(env.FRAME_BURST_PER_SOCKET);
const FLOOD = BURST * 3;

/** Waits until `ws` has closed; its close event. */
function closedWith(ws: WebSocket, timeoutMs = 10_000): Promise<CloseEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("still open")), timeoutMs);
    ws.addEventListener("close", (event) => {
      clearTimeout(timer);
      resolve(event);
    });
  });
}

describe("a frame budget on every socket", () => {
  it("answers a flood of bad frames on a booking socket only up to its budget, then closes it", async () => {
    const chat = await activeChat();
    const flooder = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const other = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const closed = closedWith(flooder.ws);
    for (let i = 0; i < FLOOD; i++) flooder.sendRaw("not json");
    expect((await closed).code).toBe(4429);
    const errors = flooder.received.filter((f) => f.event === "chat-error").length;
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(BURST * 2);
    // The rest of the room never noticed.
    other.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.providerToken, message: "fine" });
    expect((await other.expect("booking-chat")).content).toBe("fine");
    other.close();
  });

  it("counts read marks against the budget: a flood of them is cut off and writes a bounded number of rows", async () => {
    const chat = await activeChat();
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const messages = 30;
    for (let i = 1; i <= messages; i++) {
      provider.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.providerToken,
        message: `m${i}`,
      });
      await provider.expect("booking-chat");
    }
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const rowsBefore = meter("BookingRoom").rowsWritten;
    const closed = closedWith(customer.ws);
    for (let i = 0; i < FLOOD; i++)
      customer.send("mark-read", { bookingId: chat.bookingId, seq: (i % messages) + 1 });
    expect((await closed).code).toBe(4429);
    // Only a mark that moves the cursor writes, once per message at most (and the alarm its positions).
    expect(meter("BookingRoom").rowsWritten - rowsBefore).toBeLessThanOrEqual(messages + 2);
    await provider.barrier();
    expect(provider.all("messages-read").length).toBeLessThanOrEqual(messages);
    provider.close();
  });

  it("closes an inbox socket and an admin feed socket that flood", async () => {
    const provider = await newProvider();
    const box = await inbox(provider);
    const boxClosed = closedWith(box.ws);
    for (let i = 0; i < FLOOD; i++) box.sendRaw("{}");
    expect((await boxClosed).code).toBe(4429);

    const chat = await activeChat();
    const feed = await adminFeed(chat.admin);
    const feedClosed = closedWith(feed.ws);
    for (let i = 0; i < FLOOD; i++) feed.ws.send("{}");
    expect((await feedClosed).code).toBe(4429);
    feed.close();
  });

  it("closes a booking socket whose frame was not valid UTF-8 (U+FFFD, as the runtime hands it over) with 1007", async () => {
    const chat = await activeChat();
    const socket = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const closed = closedWith(socket.ws);
    socket.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "broken \uFFFD text",
    });
    expect((await closed).code).toBe(1007);
  });
});
