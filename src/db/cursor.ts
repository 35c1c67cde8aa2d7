import type { z } from "zod";
import { ApiError } from "../errors";

/** A listing's cursor: the last row's sort key, opaque to clients (base64url JSON). */
export function encodeCursor(key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor<T>(schema: z.ZodType<T>, cursor: string): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new ApiError("invalid_request", "cursor is not valid");
  }
}
