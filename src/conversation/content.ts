import {
  countChars,
  type ErrorCode,
  MAX_MESSAGE_CHARS,
  MAX_METADATA_BYTES,
  type Metadata,
  metadataBytes,
} from "../protocol";

/** Why a message's text or metadata cannot be stored, or null when it can. */
export function contentError(
  message: string,
  metadata: Metadata | undefined,
): { code: ErrorCode; message: string } | null {
  if (message.trim().length === 0) return { code: "message_empty", message: "Message cannot be empty" };
  if (countChars(message) > MAX_MESSAGE_CHARS) {
    return {
      code: "message_too_long",
      message: `Message cannot be longer than ${MAX_MESSAGE_CHARS} characters`,
    };
  }
  if (metadata && metadataBytes(metadata) > MAX_METADATA_BYTES) {
    return {
      code: "metadata_too_large",
      message: `Metadata cannot be larger than ${MAX_METADATA_BYTES} bytes`,
    };
  }
  return null;
}
