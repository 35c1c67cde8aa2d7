/**
 * JSON text of a known shape: what an object answers over RPC when the value holds free-form
 * metadata (serialized once, in the object, instead of copied across RPC and serialized again).
 * The type parameter only records what the text encodes.
 */
export type JsonText<T> = string & { readonly encodes?: T };

export function jsonText<T>(value: T): JsonText<T> {
  return JSON.stringify(value);
}

/** A response whose body is JSON text already. */
export function jsonTextResponse<T>(text: JsonText<T>, status = 200): Response {
  return new Response(text, { status, headers: { "Content-Type": "application/json" } });
}
