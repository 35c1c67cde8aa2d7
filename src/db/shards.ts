import { stableHash } from "../stable-hash";

/**
 * D1 shards: bookings and their messages (and each support thread) live in one of N databases,
 * bound as `DB`, `DB_1`, ... `DB_{N-1}`. A conversation's object records its shard when it is
 * created (`d1ShardOf` over the shards bound then), so adding a shard moves nothing that exists:
 * new conversations spread over all of them. Objects from before shards existed used `DB`.
 * The audit trail, dead letters and erasures stay in `DB`.
 */

/** The binding name of shard `index`. */
export function shardBinding(index: number): string {
  return index === 0 ? "DB" : `DB_${index}`;
}

function isD1(value: unknown): value is D1Database {
  return typeof value === "object" && value !== null && "prepare" in value && "batch" in value;
}

const cache = new WeakMap<object, D1Database[]>();

/** Every bound shard, in order: `DB`, then `DB_1`, `DB_2`... up to the first one missing. */
export function d1Shards(env: Env): D1Database[] {
  const known = cache.get(env);
  if (known) return known;
  const bindings = env as unknown as Record<string, unknown>;
  const shards: D1Database[] = [];
  for (let index = 0; ; index++) {
    const binding = bindings[shardBinding(index)];
    if (!isD1(binding)) break;
    shards.push(binding);
  }
  cache.set(env, shards);
  return shards;
}

/** Shard `index`; a recorded shard whose binding was removed is a deployment error, said loudly. */
export function d1Shard(env: Env, index: number): D1Database {
  const shard = d1Shards(env)[index];
  if (!shard)
    throw new Error(
      `D1 shard ${index} (${shardBinding(index)}) is not bound; shards may be added, never removed`,
    );
  return shard;
}

/**
 * Which of `count` shards a new conversation goes to, by its key (a booking id, or `support:`
 * and a provider id).
 */
export function d1ShardOf(key: string, count: number): number {
  return stableHash(key) % count;
}

/** Where an object keeps the shard it was given, in its key-value storage. */
const SHARD_KEY = "d1Shard";

/** The shard this object's conversation was given; one from before shards existed used `DB` (0). */
export function recordedShard(kv: SyncKvStorage): number {
  const value = kv.get(SHARD_KEY);
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : 0;
}

/** Gives a new conversation its shard, once: call only while the object has no storage yet. */
export function recordShard(kv: SyncKvStorage, env: Env, key: string): number {
  const shard = d1ShardOf(key, d1Shards(env).length);
  kv.put(SHARD_KEY, shard);
  return shard;
}
