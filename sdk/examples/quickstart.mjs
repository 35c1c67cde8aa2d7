// The booking flow, from Node.js 22, against a local `npm start` (which allows development sign-in).
import { createChatClient } from "@spana/chat-client";

const baseUrl = process.env.SPANA_URL ?? "http://localhost:8787";
const signIn = async (role, userId) => {
  const anonymous = createChatClient({ baseUrl, getToken: () => "" });
  const { token } = await anonymous.api.devToken({ body: { role, userId } });
  return createChatClient({ baseUrl, getToken: () => token });
};
const alice = await signIn("customer", "alice");
const bob = await signIn("service_provider", "bob");
const root = await signIn("admin", "root");

const { booking } = await alice.api.createBooking({ body: { providerId: "bob" } });
await root.api.confirmPayment({ params: { id: booking.id } });
await bob.api.acceptBooking({ params: { id: booking.id } });

const chat = alice.booking(booking.id);
chat.on("booking-chat", (m) => console.log(`#${m.seq} ${m.senderRole}: ${m.content}`));
await chat.connect();
await chat.send("Hi, when can you come?");
chat.close();
