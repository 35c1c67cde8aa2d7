#!/usr/bin/env node
// npm start: applies the D1 migrations to the local database, then serves with `wrangler dev`.
// Quiet on a fresh or offline machine: the migrations are applied without asking (they are this
// repository's own, to a local database), and wrangler's banner with its update check and
// miniflare's download of Cloudflare's request metadata (Request.cf) are off; local requests get
// miniflare's built-in placeholder metadata instead.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const WRANGLER = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const env = {
  ...process.env,
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

// Without a terminal on stdin, wrangler takes its default answer (apply) instead of prompting.
const migrate = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local"], {
  env,
  stdio: ["ignore", "pipe", "pipe"],
  encoding: "utf8",
});
if (migrate.status !== 0) {
  process.stderr.write(`${migrate.stdout}${migrate.stderr}`);
  console.error("npm start: applying the local D1 migrations failed (output above).");
  process.exit(migrate.status ?? 1);
}
const applied = /About to apply (\d+) migration/.exec(migrate.stdout)?.[1];
console.log(applied ? `Local D1: ${applied} migration(s) applied.` : "Local D1: up to date.");

const dev = spawn(process.execPath, [WRANGLER, "dev", ...process.argv.slice(2)], { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
