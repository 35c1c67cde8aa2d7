#!/usr/bin/env node
// Mutation check: applies each mutation of list.mjs, one at a time, to a scratch copy of the
// repository and runs the test suite on it; a mutation no test catches "survives". Prints a table
// and exits 1 if a mutation that is not marked equivalent survives. Not part of `npm test`: each
// mutation costs a suite run (about 1-2 minutes; a caught one stops at its first failure).
//   npm run test:mutations                    every mutation, the whole suite each time
//   npm run test:mutations -- --quick         only the test files each mutation names
//   npm run test:mutations -- --only a,b      some mutations
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { mutations } from "./list.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
// The project's own Node (22), also when this script was started with the system's.
const NODE = existsSync(join(ROOT, "node_modules/.bin/node"))
  ? join(ROOT, "node_modules/.bin/node")
  : process.execPath;
const { values: args } = parseArgs({
  options: { quick: { type: "boolean" }, only: { type: "string" }, help: { type: "boolean" } },
});
if (args.help) {
  console.log(
    readFileSync(new URL(import.meta.url), "utf8")
      .split("\n")
      .slice(1, 8)
      .join("\n"),
  );
  process.exit(0);
}
const only = args.only?.split(",");
const chosen = mutations.filter((m) => !only || only.includes(m.id));
if (chosen.length === 0) throw new Error(`no mutation matches --only ${args.only}`);

/** A copy of the tracked files (as they are in the working tree), sharing node_modules. */
function scratchCopy() {
  const dir = mkdtempSync(join(tmpdir(), "spana-mutations-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0");
  for (const file of files.filter(Boolean)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  run(dir, NODE, ["scripts/build-web.mjs", "--page"]);
  return dir;
}

function run(cwd, command, argv, timeoutMs = 15 * 60_000) {
  const result = spawnSync(command, argv, {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`,
      FORCE_COLOR: "0",
      NO_COLOR: "1",
      WRANGLER_SEND_METRICS: "false",
    },
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

const vitest = (dir) => join(dir, "node_modules/vitest/vitest.mjs");

/** Runs the suite a mutation belongs to: the named files with --quick, else all of it. */
function runSuite(dir, mutation) {
  const files = args.quick ? (mutation?.tests ?? []) : [];
  if (mutation?.suite === "node") {
    // The Node-side tests run the built Worker and the packed SDK.
    const built = run(dir, "npm", ["run", "pretest:node", "--silent"]);
    if (!built.ok) return built;
    return run(dir, NODE, [vitest(dir), "run", "--config", "vitest.node.config.ts", "--bail=1", ...files]);
  }
  return run(dir, NODE, [vitest(dir), "run", "--bail=1", ...files]);
}

/** The first failing test's name and the first assertion line, to show what caught it. */
function caughtBy(output) {
  const lines = output.split("\n").map((l) => l.trim());
  const test = lines.find((l) => l.startsWith("×") || l.startsWith("FAIL "))?.replace(/^[×]\s*|^FAIL\s+/, "");
  const why = lines.find((l) => /^(AssertionError|Error|TypeError|ReferenceError)/.test(l));
  return [test, why].filter(Boolean).join(" | ").slice(0, 220) || "the suite failed";
}

function apply(dir, mutation) {
  const path = join(dir, mutation.file);
  const original = readFileSync(join(ROOT, mutation.file), "utf8");
  const count = original.split(mutation.find).length - 1;
  if (count !== 1)
    throw new Error(`${mutation.id}: "${mutation.find}" occurs ${count} times in ${mutation.file}`);
  writeFileSync(path, original.replace(mutation.find, mutation.replace));
  return () => writeFileSync(path, original);
}

const dir = scratchCopy();
const started = Date.now();
const results = [];
try {
  // Every mutation must apply before any suite runs: a stale list is an error, not a survivor.
  for (const mutation of chosen) apply(dir, mutation)();
  for (const suite of new Set(chosen.map((m) => m.suite ?? "workers"))) {
    const sample = chosen.find((m) => (m.suite ?? "workers") === suite);
    const baseline = runSuite(
      dir,
      args.quick ? { ...sample, tests: chosen.flatMap((m) => m.tests ?? []) } : sample,
    );
    if (!baseline.ok) {
      console.error(baseline.output.split("\n").slice(-60).join("\n"));
      throw new Error(`the ${suite} suite fails without any mutation: ${caughtBy(baseline.output)}`);
    }
  }
  for (const mutation of chosen) {
    const restore = apply(dir, mutation);
    const t0 = Date.now();
    const outcome = runSuite(dir, mutation);
    restore();
    const seconds = Math.round((Date.now() - t0) / 1000);
    const result = outcome.ok
      ? mutation.equivalent
        ? { status: "survived (equivalent)", detail: mutation.equivalent }
        : { status: "SURVIVED", detail: mutation.what }
      : { status: "caught", detail: caughtBy(outcome.output) };
    results.push({ id: mutation.id, ...result });
    console.log(`${result.status.padEnd(22)} ${mutation.id} (${seconds} s): ${result.detail}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const survivors = results.filter((r) => r.status === "SURVIVED");
console.log(
  `\n${results.length} mutations, ${results.filter((r) => r.status === "caught").length} caught, ` +
    `${results.filter((r) => r.status.includes("equivalent")).length} equivalent, ${survivors.length} survived ` +
    `(${Math.round((Date.now() - started) / 1000)} s${args.quick ? ", --quick" : ""})`,
);
process.exit(survivors.length > 0 ? 1 : 0);
