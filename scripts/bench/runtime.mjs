// Starts the systems under test on local workerd through Miniflare's API: the runtime serves the
// Worker itself, with no `wrangler dev` proxy in between. Each system gets its own workerd process,
// so its memory can be read from /proc.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVICE = "spana-chat";

/**
 * Our Worker, built by `npm run build` into dist/, with wrangler.toml's bindings and .dev.vars;
 * `vars` and `ratelimits` (by binding name, e.g. `{ READS_PER_USER: { simple: { limit, period } } }`)
 * override wrangler.toml's.
 * @param {{ stateDir: string, vars?: Record<string, string>, ratelimits?: Record<string, object>, inspectorPort?: number }} options
 */
export async function startService({ stateDir, vars = {}, ratelimits = {}, inspectorPort }) {
  const { workerOptions: w } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  const runtime = await start(
    SERVICE,
    stateDir,
    {
      name: SERVICE,
      // The bundle, and the objects' schemas (src/*/migrations), which wrangler writes next to it as text modules.
      modulesRoot: join(ROOT, "dist"),
      modules: [
        { type: "ESModule", path: join(ROOT, "dist/index.js") },
        ...readdirSync(join(ROOT, "dist"))
          .filter((file) => file.endsWith(".sql"))
          .map((file) => ({ type: "Text", path: join(ROOT, "dist", file) })),
      ],
      compatibilityDate: w.compatibilityDate,
      compatibilityFlags: w.compatibilityFlags,
      bindings: { ...w.bindings, ...vars },
      d1Databases: w.d1Databases,
      r2Buckets: w.r2Buckets,
      durableObjects: w.durableObjects,
      ratelimits: Object.fromEntries(
        Object.entries(w.ratelimits ?? {}).map(([name, limit]) => [name, { ...limit, ...ratelimits[name] }]),
      ),
    },
    inspectorPort,
  );
  const db = await runtime.mf.getD1Database("DB");
  // A runtime restarted on existing state (the idle measurement) finds its tables there.
  const migrated = await db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'bookings'").first();
  for (const file of readdirSync(join(ROOT, "migrations"))
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    if (migrated) break;
    for (const query of unstable_splitSqlQuery(readFileSync(join(ROOT, "migrations", file), "utf8")))
      await db.prepare(query).run();
  }
  return {
    ...runtime,
    /** Evicts one booking's room from memory, as the runtime does to an idle object. */
    evictRoom: (bookingId) =>
      runtime.mf.unsafeEvictDurableObject(SERVICE, "BookingRoom", { name: bookingId, webSockets: "close" }),
    /** What the Worker's objects have spent so far (GET /dev/meter), summed over every kind of object. */
    meter: () => readMeter(runtime.http),
    /** Messages D1 holds: the rooms' copies, which lag them by up to D1_COPY_INTERVAL_MS. */
    d1Messages: async () => (await db.prepare("SELECT COUNT(*) AS n FROM messages").first()).n,
  };
}

/** primitives-worker.js: times the runtime's building blocks. */
export function startPrimitives({ stateDir }) {
  return start("primitives", stateDir, {
    name: "primitives",
    modules: true,
    scriptPath: fileURLToPath(new URL("primitives-worker.js", import.meta.url)),
    compatibilityDate: "2026-11-01",
    durableObjects: { PRIMITIVES: { className: "Primitives", useSQLite: true } },
  });
}

/** The yardsticks of baseline-worker.js: the bare echo/broadcast object and its durable twin. */
export function startBaseline({ stateDir }) {
  return start("baseline", stateDir, {
    name: "baseline",
    modules: true,
    scriptPath: fileURLToPath(new URL("baseline-worker.js", import.meta.url)),
    compatibilityDate: "2026-11-01",
    durableObjects: {
      ECHO_ROOM: { className: "EchoRoom", useSQLite: true },
      DURABLE_ECHO_ROOM: { className: "DurableEchoRoom", useSQLite: true },
    },
  });
}

async function start(name, stateDir, worker, inspectorPort) {
  const before = new Set(workerdPids());
  const options = convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, inspectorPort, workers: [worker] });
  const mf = new Miniflare({ ...options, resourcePersistencePath: stateDir });
  const url = await mf.ready;
  const pid = workerdPids().find((p) => !before.has(p));
  return {
    name,
    mf,
    pid,
    http: url.origin,
    ws: url.origin.replace(/^http/, "ws"),
    /** Resident and peak resident memory of this system's workerd, in MiB. */
    memory: () => memoryOf(pid),
    stop: () => mf.dispose(),
  };
}

/** workerd processes started by this process (Miniflare spawns them as children). */
function workerdPids() {
  let pids = [];
  try {
    pids = execFileSync("ps", ["-o", "pid=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter(Boolean);
  } catch {
    return []; // ps exits 1 when there are no children
  }
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0].endsWith("workerd");
    } catch {
      return false;
    }
  });
}

function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** The Worker's cost counters by kind of object, and their sum under `total`. */
async function readMeter(base) {
  const res = await fetch(`${base}/dev/meter`);
  if (!res.ok) throw new Error(`GET /dev/meter: ${res.status}`);
  const byKind = await res.json();
  const total = {};
  for (const counters of Object.values(byKind))
    for (const [key, value] of Object.entries(counters)) total[key] = (total[key] ?? 0) + value;
  return { ...byKind, total };
}
