import type { Context } from "hono";
import { limitSize, readHead } from "../attachments/limit-size";
import { ATTACHMENT_KINDS, type AttachmentKind, SNIFF_BYTES, sniffKind } from "../attachments/sniff";
import { stripJpegLocation } from "../attachments/strip-gps";
import type { AppEnv } from "../auth/authenticate";
import { getConfig } from "../config";
import { recordAdminAccess } from "../db/admin-audit";
import { ApiError, unwrap } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import { bookingRoom } from "../rooms";
import { chatTokenHeader } from "./chat-token-header";
import type { RouteHandlers } from "./serve";

const workerCounters = meter("Worker");

/** Control characters, path separators and quotes have no place in a name sent back in a header. */
const UNSAFE_NAME = /[\p{Cc}\p{Cf}/\\"]/gu;

/** A name as an RFC 5987 value: percent-encoded, the characters encodeURIComponent leaves alone included. */
function headerSafe(name: string): string {
  return encodeURIComponent(name).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeName(name: string): string {
  const cleaned = name.replace(UNSAFE_NAME, "_").trim();
  return cleaned === "" ? "file" : cleaned;
}

/** Content types that also name a kind, besides its own (`image/heif` for HEIC). */
const ALSO_DECLARED: Record<string, AttachmentKind> = { "image/heif": "heic", "image/jpg": "jpeg" };

/** The kind `Content-Type` declares; undefined when it declares none in particular. */
function declaredKind(header: string | undefined): AttachmentKind | null | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "" || type === "application/octet-stream") return undefined;
  const kinds = Object.entries(ATTACHMENT_KINDS) as [AttachmentKind, string][];
  return kinds.find(([, mime]) => mime === type)?.[0] ?? ALSO_DECLARED[type] ?? null;
}

function contentLength(c: Context<AppEnv>, maxBytes: number): number {
  const header = c.req.header("Content-Length");
  if (header === undefined || !/^\d{1,12}$/.test(header)) {
    throw new ApiError("invalid_request", "Send the file with its Content-Length");
  }
  const length = Number(header);
  if (length === 0) throw new ApiError("invalid_request", "The file is empty");
  if (length > maxBytes) {
    throw new ApiError("payload_too_large", `Files are at most ${maxBytes} bytes`);
  }
  return length;
}

/** Files in a booking's chat: uploaded to R2 as they stream in, handed out to those who may see them. */
export const attachmentHandlers = {
  uploadAttachment: async (c, { identity, params, query }) => {
    const chatToken = chatTokenHeader(c);
    const room = bookingRoom(c.env, params.id);
    // Who may upload is settled before a byte of the body is read.
    unwrap(await room.mayUpload(identity, chatToken));
    const config = getConfig(c.env).attachments;
    const length = contentLength(c, config.maxBytes);
    const body = c.req.raw.body;
    if (!body) throw new ApiError("invalid_request", "The file is empty");
    const { head, rest } = await readHead(body, SNIFF_BYTES);
    const kind = sniffKind(head);
    if (kind === null || !config.kinds.includes(kind)) {
      const allowed = config.kinds.join(", ");
      throw new ApiError("unsupported_media_type", `Files may be ${allowed}; this one is not`);
    }
    const declared = declaredKind(c.req.header("Content-Type"));
    if (declared !== undefined && declared !== kind) {
      throw new ApiError("unsupported_media_type", `The file is ${kind}, not what Content-Type says`);
    }
    const id = crypto.randomUUID();
    const r2Key = `bookings/${params.id}/${id}`;
    const contentType = ATTACHMENT_KINDS[kind];
    // R2 stores only streams of known length; scrubbing keeps the length, so it is the declared one.
    const stored = new FixedLengthStream(length);
    const tooLarge = () => new ApiError("invalid_request", "The body is longer than its Content-Length");
    const checked = rest.pipeThrough(limitSize(length, tooLarge));
    const scrubbed = kind === "jpeg" ? checked.pipeThrough(stripJpegLocation()) : checked;
    const piping = scrubbed.pipeTo(stored.writable);
    workerCounters.r2Writes++;
    try {
      await Promise.all([
        c.env.ATTACHMENTS.put(r2Key, stored.readable, {
          httpMetadata: { contentType },
          customMetadata: { bookingId: params.id, uploaderId: identity.userId },
        }),
        piping,
      ]);
    } catch (error) {
      console.warn("attachments: an upload did not complete", describeError(error));
      await c.env.ATTACHMENTS.delete(r2Key).catch(() => undefined);
      if (error instanceof ApiError) throw error;
      throw new ApiError("invalid_request", "The upload did not complete, or the file is not a valid image");
    }
    const upload = { id, name: safeName(query.name), contentType, size: length, r2Key };
    const registered = await room.attachmentUploaded(identity, chatToken, upload);
    if (!registered.ok) await c.env.ATTACHMENTS.delete(r2Key).catch(() => undefined);
    return { body: { attachment: unwrap(registered) } };
  },
  downloadAttachment: async (c, { identity, params }) => {
    const chatToken = chatTokenHeader(c);
    if (identity.role === "admin") {
      const target = `${params.id}/${params.attachmentId}`;
      await recordAdminAccess(c.env.DB, identity.userId, "attachment.read", target);
    }
    const found = unwrap(
      await bookingRoom(c.env, params.id).attachment(identity, chatToken, params.attachmentId),
    );
    const object = await c.env.ATTACHMENTS.get(found.r2Key);
    if (!object) throw new ApiError("not_found", "No such attachment in this booking");
    // Images show inline, anything else downloads; nothing is ever sniffed into HTML or script.
    const disposition = found.contentType.startsWith("image/") ? "inline" : "attachment";
    return new Response(object.body, {
      headers: {
        "Content-Type": found.contentType,
        "Content-Length": String(object.size),
        "Content-Disposition": `${disposition}; filename*=UTF-8''${headerSafe(found.name)}`,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
      },
    });
  },
} satisfies Partial<RouteHandlers>;
