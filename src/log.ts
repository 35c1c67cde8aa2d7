/**
 * An error as it may be logged: its name and message, without the parameter list a failed query
 * carries (drizzle appends the bound values, which can include message text), and capped.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 300);
  const message = error.message.split("\nparams:")[0] ?? "";
  const cause = error.cause instanceof Error ? ` (cause: ${describeError(error.cause)})` : "";
  return `${error.name}: ${message.slice(0, 500)}${cause}`;
}
