import type { Counters } from "../metering/meter";
import { meteredSql, type SqlExec } from "../storage/durable-db";
import {
  applyMigrations,
  hasMigrations,
  type ObjectMigrations,
  openSchema,
  recordSchemaVersion,
} from "../storage/migrations";
import { isLegacy, upgradeLegacy } from "./legacy-schema";

/**
 * A conversation object's SQLite. The schema is created with the conversation (a booking, a
 * support thread), so a request for an id that does not exist reads an empty database and leaves
 * nothing behind; an existing object is brought up to date when it wakes (one key-value read
 * when it already is).
 */
export class ObjectStorage {
  readonly sql: SqlExec;
  private created: boolean;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly counters: Counters,
    private readonly migrations: ObjectMigrations,
    /** Tables an object from before the current schema carries over (legacy-schema.ts). */
    legacyTables: string[],
  ) {
    this.sql = meteredSql(storage.sql, counters);
    // Synchronous, so no event can reach the object before its schema is current.
    this.created = openSchema(storage, this.sql, counters, migrations, (sql) => {
      if (isLegacy(sql)) upgradeLegacy(sql, migrations, legacyTables);
      else if (hasMigrations(sql)) applyMigrations(sql, migrations);
      else return false;
      return true;
    });
  }

  exists(): boolean {
    return this.created;
  }

  /** Creates the schema; call inside the transaction that first writes. */
  create(): void {
    if (this.created) return;
    applyMigrations(this.sql, this.migrations);
    recordSchemaVersion(this.storage, this.counters, this.migrations);
    this.created = true;
  }

  /** The transaction that called `create` rolled back. */
  forget(): void {
    this.created = hasMigrations(this.sql);
  }
}
