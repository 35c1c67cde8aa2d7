#!/usr/bin/env node
// npm start: applies the D1 migrations to the local database, then serves with `wrangler dev`.
// Quiet on a fresh or offline machine: the migrations are applied without asking (they are this
// repository's own, to a local database), and wrangler's banner with its update check and
// miniflare's download of Cloudflare's request metadata (Request.cf) are off; local requests get
// miniflare's built-in placeholder metadata instead.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const WRANGLER = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const env = {
  ...process.env,
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // wrangler.toml's [build] rebuilds public/ as wrangler starts: with the try-it page and its source map.
  SPANA_WEB_DEV: "1",
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

// wrangler moves to another port on its own when 8787 is taken, and says so only in passing: pick
// the port here and say which (`npm start -- --port N` chooses one).
const args = process.argv.slice(2);
const asked = args.indexOf("--port");
let port = asked >= 0 ? Number(args[asked + 1]) : 8787;
if (asked < 0) {
  while (!(await isFree(port))) port++;
  if (port !== 8787)
    console.log(`Port 8787 is in use; serving on ${port} instead (npm start -- --port N picks one).`);
  args.push("--port", String(port));
} else if (!(await isFree(port))) {
  console.error(`npm start: port ${port} is in use; pick another with npm start -- --port N.`);
  process.exit(1);
}
console.log(`Serving on http://localhost:${port}`);

function isFree(candidate) {
  return new Promise((resolve) => {
    const probe = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => probe.close(() => resolve(true)))
      .listen(candidate, "127.0.0.1");
  });
}

const dev = spawn(process.execPath, [WRANGLER, "dev", ...args], { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
