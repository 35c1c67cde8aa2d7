/**
 * What the objects of this isolate have spent, by kind of object: the units Cloudflare bills
 * (SQLite rows written, alarms set, calls to other objects, D1 rows written). Plain counters in
 * module memory, so counting costs an addition; `GET /dev/meter` reads them in development, where
 * every object runs in one isolate, and the benchmark turns them into cost per message.
 */
export type Counters = {
  /** Rows written to the object's own SQLite, index entries included (the cursor's `rowsWritten`). */
  rowsWritten: number;
  /** `setAlarm` calls; Cloudflare bills each as one row written. */
  alarmsSet: number;
  /** Alarm handler runs; each is billed as a request. */
  alarmsRun: number;
  /** RPC calls made to other Durable Objects; each is billed as a request to the callee. */
  calls: number;
  /** Rows written to D1 (`meta.rows_written`), index entries included. */
  d1RowsWritten: number;
  /** D1 statements sent. */
  d1Statements: number;
  /** Messages sent to D1; each message goes once, unless a flush is repeated after a crash. */
  d1MessagesCopied: number;
  /** Chat messages stored (booking and support), the unit costs are divided by. */
  messages: number;
  /** Objects constructed: a first use, or a wake after hibernation or eviction. */
  wakes: number;
  /** Statements spent checking or applying the schema (a woken object that is current spends none). */
  schemaChecks: number;
  /** Notification webhooks POSTed (subrequests: no billed unit of their own, but each is work). */
  webhooks: number;
  /** R2 writes (uploads); R2 bills each as a Class A operation. */
  r2Writes: number;
};

const counters = new Map<string, Counters>();

function zero(): Counters {
  return {
    rowsWritten: 0,
    alarmsSet: 0,
    alarmsRun: 0,
    calls: 0,
    d1RowsWritten: 0,
    d1Statements: 0,
    d1MessagesCopied: 0,
    messages: 0,
    wakes: 0,
    schemaChecks: 0,
    webhooks: 0,
    r2Writes: 0,
  };
}

/** The counters of one kind of object ("BookingRoom", "UserInbox", ...). */
export function meter(kind: string): Counters {
  let found = counters.get(kind);
  if (!found) {
    found = zero();
    counters.set(kind, found);
  }
  return found;
}

/** A copy of every kind's counters. */
export function meterSnapshot(): Record<string, Counters> {
  return Object.fromEntries([...counters].map(([kind, c]) => [kind, { ...c }]));
}
