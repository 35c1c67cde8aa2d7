import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const work = mkdtempSync(path.join(tmpdir(), "spana-deploy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** wrangler.toml with a second D1 shard added as docs/operations.md says, its paths made absolute. */
function shardedConfig(): string {
  const toml = readFileSync(`${ROOT}wrangler.toml`, "utf8")
    .replace('main = "src/index.ts"', `main = "${ROOT}src/index.ts"`)
    .replace('directory = "./public"', `directory = "${ROOT}public"`)
    .replaceAll('migrations_dir = "migrations"', `migrations_dir = "${ROOT}migrations"`);
  const shard = [
    "[[d1_databases]]",
    'binding = "DB_1"',
    'database_name = "spana-chat-1"',
    'database_id = "11111111-1111-1111-1111-111111111111"',
    `migrations_dir = "${ROOT}migrations"`,
  ].join("\n");
  const file = path.join(work, "wrangler.sharded.toml");
  writeFileSync(file, `${toml}\n${shard}\n`);
  return file;
}

describe("wrangler deploy --dry-run", () => {
  it("works as a plain command in a fresh clone: wrangler.toml's [build] makes public/", () => {
    rmSync(`${ROOT}public`, { recursive: true, force: true });
    const output = execFileSync(
      path.join(ROOT, "node_modules/.bin/wrangler"),
      ["deploy", "--dry-run", "--outdir", path.join(work, "plain")],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } },
    );
    expect(output).toContain("--dry-run: exiting now.");
    expect(readdirSync(`${ROOT}public`).sort()).toEqual(["favicon.svg", "robots.txt"]);
  }, 60_000);

  it("builds with two D1 shards, the R2 buckets, the erasure objects and the retention cron", () => {
    const outdir = path.join(work, "dist");
    const output = execFileSync(
      path.join(ROOT, "node_modules/.bin/wrangler"),
      ["deploy", "--dry-run", "--config", shardedConfig(), "--outdir", outdir],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } },
    );
    for (const binding of [
      "env.DB (spana-chat)",
      "env.DB_1 (spana-chat-1)",
      "env.ARCHIVES (spana-chat-archives)",
      "env.ATTACHMENTS (spana-chat-attachments)",
      "env.USER_ERASURE (UserErasure)",
    ]) {
      expect(output, binding).toContain(binding);
    }
    // The cron runs the Worker's scheduled handler (wrangler checks the schedule only on a real deploy).
    expect(readFileSync(`${ROOT}wrangler.toml`, "utf8")).toMatch(/^crons = \["\*\/15 \* \* \* \*"\]$/m);
    expect(readdirSync(outdir)).toContain("index.js");
    expect(readFileSync(path.join(outdir, "index.js"), "utf8")).toContain("runRetention(env)");
  }, 60_000);
});
