const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Where D1's history starts with `days` of retention at `now`: the start (UTC) of the day `days`
 * ago. The daily job archives what is older; the D1 copy never writes anything older (a late copy
 * must not bring back what was archived), so the two agree on one line. Null: keep everything.
 */
export function retentionCutoff(days: number | null, now: number): string | null {
  if (days === null) return null;
  const day = Math.floor((now - days * DAY_MS) / DAY_MS) * DAY_MS;
  return new Date(day).toISOString();
}
