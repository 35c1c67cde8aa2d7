/**
 * A JSON response for bodies that carry message metadata. Hono's `c.json` computes a type for
 * the body, and recursive JSON metadata makes that computation too deep for TypeScript.
 */
export function jsonResponse<T>(body: T, status = 200): Response {
  return Response.json(body, { status });
}
