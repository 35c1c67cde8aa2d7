import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const instances = new WeakMap<D1Database | D1DatabaseSession, ReturnType<typeof create>>();

function create(d1: D1Database | D1DatabaseSession) {
  // Drizzle only prepares and batches, which a read-replica session does as the binding does;
  // its types predate sessions.
  return drizzle(d1 as D1Database, { schema });
}

/** Drizzle over a D1 binding (or a session of one); built once per binding, since building walks the whole schema. */
export function database(d1: D1Database | D1DatabaseSession) {
  let db = instances.get(d1);
  if (!db) {
    db = create(d1);
    instances.set(d1, db);
  }
  return db;
}
export type Database = ReturnType<typeof database>;
