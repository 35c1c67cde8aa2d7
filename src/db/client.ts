import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const instances = new WeakMap<D1Database, ReturnType<typeof create>>();

function create(d1: D1Database) {
  return drizzle(d1, { schema });
}

/** Drizzle over a D1 binding; built once per binding, since building walks the whole schema. */
export function database(d1: D1Database) {
  let db = instances.get(d1);
  if (!db) {
    db = create(d1);
    instances.set(d1, db);
  }
  return db;
}
export type Database = ReturnType<typeof database>;
