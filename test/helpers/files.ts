import { type ApiResponse, api } from "./api";
import type { ActiveChat } from "./flow";
import type { TestUser } from "./users";

/** Bytes of a given length starting with `head`, the rest filler. */
export function fileOf(head: number[] | string, length = 256): Uint8Array {
  const start = typeof head === "string" ? new TextEncoder().encode(head) : Uint8Array.from(head);
  const bytes = new Uint8Array(Math.max(length, start.length)).fill(0x2a);
  bytes.set(start);
  return bytes;
}

export const PNG = () =>
  fileOf([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
export const PDF = () => fileOf("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n");
export const GIF = () => fileOf("GIF89a\u0001\u0000\u0001\u0000");
export const HTML = () => fileOf("<!doctype html><script>alert(1)</script>");

/** The chat token `user` holds in `chat`, or none for an admin. */
export function tokenOf(chat: ActiveChat, user: TestUser): string | undefined {
  if (user.id === chat.customer.id && user.role === "customer") return chat.customerToken;
  if (user.id === chat.provider.id && user.role === "provider") return chat.providerToken;
  return undefined;
}

/** Uploads `bytes` to the booking as `user` (with their own chat token unless `token` says otherwise). */
export function upload(
  chat: ActiveChat,
  user: TestUser,
  bytes: Uint8Array,
  options: { name?: string; contentType?: string; token?: string; bookingId?: string } = {},
): Promise<ApiResponse> {
  const token = options.token ?? tokenOf(chat, user);
  const name = encodeURIComponent(options.name ?? "photo.png");
  return api("POST", `/chat/booking/${options.bookingId ?? chat.bookingId}/attachments?name=${name}`, {
    jwt: user.jwt,
    rawBody: bytes,
    headers: {
      "Content-Type": options.contentType ?? "application/octet-stream",
      ...(token ? { "X-Chat-Token": token } : {}),
    },
  });
}

/** Downloads an attachment as `user`; the body as bytes. */
export async function download(
  chat: ActiveChat,
  user: TestUser,
  attachmentId: string,
  token = tokenOf(chat, user),
): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const { exports } = await import("cloudflare:workers");
  const response = await exports.default.fetch(
    `http://spana.test/chat/booking/${chat.bookingId}/attachments/${attachmentId}`,
    { headers: { Authorization: `Bearer ${user.jwt}`, ...(token ? { "X-Chat-Token": token } : {}) } },
  );
  return {
    status: response.status,
    headers: response.headers,
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

/** The id of an upload that must have succeeded. */
export async function uploaded(
  chat: ActiveChat,
  user: TestUser,
  bytes: Uint8Array,
  name?: string,
): Promise<string> {
  const res = await upload(chat, user, bytes, name ? { name } : {});
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
  return (res.body as { attachment: { id: string } }).attachment.id;
}
