import {
  countChars,
  type ErrorCode,
  MAX_MESSAGE_CHARS,
  MAX_METADATA_BYTES,
  type Metadata,
  metadataBytes,
} from "../protocol";

/**
 * Text that shows nothing: white space, invisible characters (zero-width spaces, joiners, BOM,
 * Hangul fillers...) and the blank Braille pattern U+2800, which renders as a space but is no
 * white space to Unicode.
 */
const BLANK = /^[\s\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/** Why a message's text or metadata cannot be stored, or null when it can. */
export function contentError(
  message: string,
  metadata: Metadata | undefined,
  maxChars = MAX_MESSAGE_CHARS,
  /** The message carries files, so its text may be empty. */
  hasAttachments = false,
): { code: ErrorCode; message: string } | null {
  if (BLANK.test(message) && !hasAttachments) {
    return { code: "message_empty", message: "Message cannot be empty" };
  }
  if (countChars(message) > maxChars) {
    return {
      code: "message_too_long",
      message: `Message cannot be longer than ${maxChars} characters`,
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
