import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findGpsTag } from "../src/attachments/strip-gps";
import { HistoryResponse, type Message, UploadResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { jpegWithGps, ORIENTATION_RIGHT_TOP } from "./fixtures/jpeg";
import { api } from "./helpers/api";
import { download, GIF, HTML, PDF, PNG, upload, uploaded } from "./helpers/files";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { joined } from "./helpers/socket";
import { RawSocketIo } from "./helpers/socket-io";

function sendWith(
  chat: Awaited<ReturnType<typeof activeChat>>,
  as: "customer" | "provider",
  attachments: string[],
  message = "",
) {
  return {
    bookingId: chat.bookingId,
    chatToken: as === "customer" ? chat.customerToken : chat.providerToken,
    message,
    attachments,
  };
}

describe("photos and files in a booking's chat", () => {
  it("both parties send a photo; the other party and an admin download it as it was stored", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);

    const res = await upload(chat, chat.customer, PNG(), {
      name: "leak under the sink.png",
      contentType: "image/png",
    });
    expect(res.status, res.text).toBe(201);
    const { attachment } = UploadResponse.parse(res.body);
    expect(attachment).toMatchObject({
      name: "leak under the sink.png",
      contentType: "image/png",
      size: 256,
    });
    customer.send("booking-chat", sendWith(chat, "customer", [attachment.id], "Here is the leak"));
    await customer.expect("booking-chat");
    const heard = await provider.expect("booking-chat");
    expect(heard.attachments).toEqual([attachment]);
    expect(heard.content).toBe("Here is the leak");

    // A file alone, without text, from the other side.
    const pdf = await uploaded(chat, chat.provider, PDF(), "quote.pdf");
    provider.send("booking-chat", sendWith(chat, "provider", [pdf]));
    await provider.expect("booking-chat");
    const quote = await customer.expect("booking-chat");
    expect(quote.attachments?.[0]?.id).toBe(pdf);
    expect(quote.content).toBe("");

    for (const reader of [chat.provider, chat.customer, chat.admin]) {
      const got = await download(chat, reader, attachment.id);
      expect(got.status).toBe(200);
      expect(got.bytes).toEqual(PNG());
      expect(got.headers.get("Content-Type")).toBe("image/png");
      expect(got.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(got.headers.get("Content-Disposition")).toBe(
        `inline; filename*=UTF-8''${encodeURIComponent("leak under the sink.png")}`,
      );
    }
    const file = await download(chat, chat.customer, pdf);
    expect(file.headers.get("Content-Type")).toBe("application/pdf");
    expect(file.headers.get("Content-Disposition")).toMatch(/^attachment; /);

    // History carries the same references.
    const history = await api("GET", `/chat/booking/${chat.bookingId}`, {
      jwt: chat.provider.jwt,
      headers: { "X-Chat-Token": chat.providerToken },
    });
    const messages = HistoryResponse.parse(history.body).messages;
    expect(messages.map((m: Message) => m.attachments?.map((a) => a.id))).toEqual([[attachment.id], [pdf]]);
    customer.close();
    provider.close();
  });

  it("records an admin's download in the audit trail", async () => {
    const chat = await activeChat();
    const id = await uploaded(chat, chat.customer, PNG());
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    customer.send("booking-chat", sendWith(chat, "customer", [id]));
    await customer.expect("booking-chat");
    expect((await download(chat, chat.admin, id)).status).toBe(200);
    const audit = await api("GET", `/chat/admin/audit?adminId=${chat.admin.id}`, { jwt: chat.admin.jwt });
    expect(JSON.stringify(audit.body)).toContain(
      `"action":"attachment.read","target":"${chat.bookingId}/${id}"`,
    );
    customer.close();
  });

  it("refuses uploads from outside the booking, with a wrong token, or before the chat is active", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const fromOtherBooking = await upload(chat, other.customer, PNG(), { token: other.customerToken });
    expect(fromOtherBooking.status).toBe(403);
    const wrongToken = await upload(chat, chat.customer, PNG(), { token: chat.providerToken });
    expect(wrongToken.body).toMatchObject({ error: { code: "invalid_token" } });
    const admin = await upload(chat, chat.admin, PNG());
    expect(admin.status).toBe(403);

    const p = await parties();
    const booking = await createBooking(p);
    const pending = {
      ...chat,
      ...p,
      bookingId: booking.id,
    };
    const notActive = await upload(pending, p.customer, PNG(), { token: "x" });
    expect(notActive.status).toBe(403);
    expect(
      (await api("GET", `/chat/admin/bookings?customerId=${p.customer.id}`, { jwt: p.admin.jwt })).status,
    ).toBe(200);
  });

  it("refuses a chat that has ended, and one that is not active yet", async () => {
    const chat = await activeChat();
    await api("POST", `/bookings/${chat.bookingId}/complete`, { jwt: chat.provider.jwt });
    const ended = await upload(chat, chat.customer, PNG());
    expect(ended.status).toBe(409);
    expect(ended.body).toMatchObject({ error: { code: "chat_terminated" } });

    const p = await parties();
    const booking = await createBooking(p);
    await api("POST", `/bookings/${booking.id}/payment`, { jwt: p.admin.jwt });
    const token = await api("GET", `/chat/booking/${booking.id}/token`, { jwt: p.customer.jwt });
    const waiting = await upload({ ...chat, ...p, bookingId: booking.id }, p.customer, PNG(), {
      token: (token.body as { chatToken: string }).chatToken,
    });
    expect(waiting.status).toBe(409);
    expect(waiting.body).toMatchObject({ error: { code: "chat_not_active" } });
  });

  it("checks the type from the bytes: other types, disguised files and mislabelled ones are refused", async () => {
    const chat = await activeChat();
    for (const bytes of [GIF(), HTML()]) {
      const res = await upload(chat, chat.customer, bytes, { contentType: "image/png" });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ error: { code: "unsupported_media_type" } });
    }
    const mislabelled = await upload(chat, chat.customer, PNG(), { contentType: "image/jpeg" });
    expect(mislabelled.status).toBe(415);
    const nothingStored = await env.ATTACHMENTS.list({ prefix: `bookings/${chat.bookingId}/` });
    expect(nothingStored.objects).toEqual([]);
  });

  it("refuses a file over ATTACHMENT_MAX_BYTES before reading it", async () => {
    const chat = await activeChat();
    const tooLarge = new Uint8Array(10 * 1024 * 1024 + 1);
    tooLarge.set(PNG().subarray(0, 16));
    const res = await upload(chat, chat.customer, tooLarge, { contentType: "image/png" });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("lets a message use only its sender's own unused uploads to this booking, each once", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const mine = await uploaded(chat, chat.customer, PNG());
    const theirs = await uploaded(chat, chat.provider, PNG());
    const elsewhere = await uploaded(other, other.customer, PNG());

    customer.send("booking-chat", { ...sendWith(chat, "customer", [mine]), clientMessageId: "first" });
    await customer.expect("booking-chat");
    const refusals = [
      [mine], // used already
      [theirs], // the other party's
      [elsewhere], // another booking's
      ["no-such-id"],
      [],
    ];
    for (const [i, ids] of refusals.entries()) {
      customer.send("booking-chat", { ...sendWith(chat, "customer", ids), clientMessageId: `bad-${i}` });
      const error = await customer.expect("chat-error");
      expect(error.clientMessageId).toBe(`bad-${i}`);
      expect(error.code).toBe(ids.length === 0 ? "message_empty" : "invalid_attachment");
    }
    const six = await Promise.all(Array.from({ length: 6 }, () => uploaded(chat, chat.customer, PNG())));
    customer.send("booking-chat", sendWith(chat, "customer", six));
    expect((await customer.expect("chat-error")).code).toBe("invalid_payload");
    // None of the refused sends used an upload: five of those six still go through.
    customer.send("booking-chat", sendWith(chat, "customer", six.slice(0, 5)));
    expect((await customer.expect("booking-chat")).attachments).toHaveLength(5);
    customer.close();
  });

  it("hands a file to the parties only with their own token, also after the chat has ended", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const id = await uploaded(chat, chat.customer, PNG());
    // Unused, it is the uploader's alone.
    expect((await download(chat, chat.provider, id)).status).toBe(404);
    expect((await download(chat, chat.customer, id)).status).toBe(200);
    customer.send("booking-chat", sendWith(chat, "customer", [id]));
    await customer.expect("booking-chat");
    expect((await download(chat, chat.provider, id, "wrong")).status).toBe(403);
    expect((await download(chat, other.customer, id, other.customerToken)).status).toBe(403);
    await api("POST", `/bookings/${chat.bookingId}/complete`, { jwt: chat.provider.jwt });
    expect((await download(chat, chat.provider, id)).status).toBe(200);
    customer.close();
  });

  it("removes the location from a JPEG photo and keeps the rest of its EXIF", async () => {
    const chat = await activeChat();
    for (const order of ["II", "MM"] as const) {
      const photo = jpegWithGps(order);
      expect(findGpsTag(photo)).toBe(true);
      const res = await upload(chat, chat.customer, photo, {
        name: "kitchen.jpg",
        contentType: "image/jpeg",
      });
      expect(res.status, res.text).toBe(201);
      const { attachment } = UploadResponse.parse(res.body);
      const stored = await download(chat, chat.customer, attachment.id);
      expect(stored.bytes.length).toBe(photo.length);
      expect(findGpsTag(stored.bytes)).toBe(false);
      // The orientation tag (0x0112, SHORT, value 6) survives in the byte order it was written in.
      const orientation =
        order === "II"
          ? [0x12, 0x01, 3, 0, 1, 0, 0, 0, ORIENTATION_RIGHT_TOP, 0]
          : [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, ORIENTATION_RIGHT_TOP];
      expect(Buffer.from(stored.bytes).includes(Buffer.from(orientation))).toBe(true);
      const r2 = await env.ATTACHMENTS.get(`bookings/${chat.bookingId}/${attachment.id}`);
      expect(findGpsTag(new Uint8Array((await r2?.arrayBuffer()) ?? new ArrayBuffer(0)))).toBe(false);
    }
  });

  it("deletes an upload no message used within the hour, and keeps those in messages", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const orphan = await uploaded(chat, chat.customer, PNG());
    const kept = await uploaded(chat, chat.customer, PNG());
    customer.send("booking-chat", sendWith(chat, "customer", [kept]));
    await customer.expect("booking-chat");
    const room = bookingRoom(env, chat.bookingId);
    // Both uploads an hour and a minute old.
    await runInDurableObject(room, (_, state) => {
      state.storage.sql.exec("UPDATE attachments SET created_at = created_at - ?", 61 * 60 * 1000);
    });
    await runInDurableObject(room, async (_, state) => {
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    await runDurableObjectAlarm(room);
    expect((await download(chat, chat.customer, orphan)).status).toBe(404);
    expect(await env.ATTACHMENTS.head(`bookings/${chat.bookingId}/${orphan}`)).toBeNull();
    expect((await download(chat, chat.customer, kept)).status).toBe(200);
    customer.send("booking-chat", sendWith(chat, "customer", [orphan]));
    expect((await customer.expect("chat-error")).code).toBe("invalid_attachment");
    customer.close();
  });

  it("carries attachments over Socket.IO in the same field", async () => {
    const chat = await activeChat();
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const id = await uploaded(chat, chat.customer, PNG());
    const sio = await RawSocketIo.connect(chat.customer.jwt);
    await sio.emitWithAck("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken }, 1);
    const ack = await sio.emitWithAck("booking-chat", sendWith(chat, "customer", [id], "photo"), 2);
    expect(ack).toMatchObject({ attachments: [{ id, contentType: "image/png" }] });
    expect((await provider.expect("booking-chat")).attachments?.[0]?.id).toBe(id);
    provider.close();
    sio.close();
  });
});
