// What the runtime's building blocks cost on this machine, so the gap between the chat and the bare
// baseline can be read in units of them: a SQLite statement, a transaction, a call to another
// Durable Object, and such a call whose callee writes (and so waits for its commit).
import { DurableObject } from "cloudflare:workers";

const OPERATIONS = {
  "SQLite statement (SELECT by primary key)": async (room) => {
    room.sql.exec("SELECT * FROM m WHERE id = ?", 1).toArray();
  },
  "SQLite INSERT (200-byte row, own transaction)": async (room, i) => {
    room.ctx.storage.transactionSync(() =>
      room.sql.exec("INSERT INTO m (body) VALUES (?)", `${i}`.padEnd(200)),
    );
  },
  "call to another Durable Object (RPC)": async (room, i) => {
    await room.peer().echo(i);
  },
  "RPC whose callee writes a row (waits for its commit)": async (room, i) => {
    await room.peer().write(i);
  },
};

export class Primitives extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, body TEXT)");
    this.sql.exec("INSERT OR IGNORE INTO m (id, body) VALUES (1, 'x')");
  }

  peer() {
    return this.env.PRIMITIVES.get(this.env.PRIMITIVES.idFromName("peer"));
  }

  echo(i) {
    return i;
  }

  write(i) {
    this.sql.exec("INSERT INTO m (body) VALUES (?)", `${i}`);
    return i;
  }

  /** Runs one operation `times` times in a row; the caller times the request. */
  async fetch(request) {
    const url = new URL(request.url);
    const operation = OPERATIONS[url.searchParams.get("op")];
    if (!operation) return Response.json(Object.keys(OPERATIONS));
    const times = Number(url.searchParams.get("times"));
    for (let i = 0; i < times; i++) await operation(this, i);
    return new Response("done");
  }
}

export default {
  fetch(request, env) {
    return env.PRIMITIVES.get(env.PRIMITIVES.idFromName("bench")).fetch(request);
  },
};
