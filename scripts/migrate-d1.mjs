// Applies the D1 migrations to every shard wrangler.toml binds (DB, DB_1, DB_2...), in order:
// `npm run deploy` runs it with --remote; without it, the local databases of `wrangler dev`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
const shards = [...toml.matchAll(/^binding = "(DB(?:_\d+)?)"$/gm)].map((m) => m[1]);
if (shards.length === 0) throw new Error("wrangler.toml binds no D1 database");
const where = process.argv.includes("--remote") ? "--remote" : "--local";
for (const shard of shards) {
  console.log(`D1 migrations: ${shard} (${where.slice(2)})`);
  execFileSync("npx", ["wrangler", "d1", "migrations", "apply", shard, where], { stdio: "inherit" });
}
