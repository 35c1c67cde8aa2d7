import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

const DIST_SOURCE_MAP = new URL("../../dist/index.js.map", import.meta.url);

// CPU profile of our Worker's isolate through workerd's inspector (Chrome DevTools Protocol), reduced
// to where the time goes: self time by function, and by source file.
export async function startProfile(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target =
    targets.find((t) => t.id?.includes("spana-chat") || t.title?.includes("spana-chat")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("inspector socket failed"));
  });
  let nextId = 1;
  const pending = new Map();
  ws.onmessage = (e) => {
    const reply = JSON.parse(e.data);
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) =>
        reply.error ? reject(new Error(reply.error.message)) : resolve(reply.result),
      );
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  return {
    async stop() {
      const { profile } = await send("Profiler.stop");
      ws.close();
      return profile;
    },
  };
}

/** Names a profiled frame by its original source (via the bundle's source map) when it can. */
function frameNamer(sourceMapPath) {
  let map = null;
  try {
    map = new SourceMap(JSON.parse(readFileSync(sourceMapPath, "utf8")));
  } catch {
    // no source map: bundle positions it is
  }
  return ({ functionName, url, lineNumber, columnNumber }) => {
    const name = functionName || "(anonymous)";
    if (!url) return `${name} (native)`;
    const entry = map && url.endsWith("index.js") ? map.findEntry(lineNumber, columnNumber) : null;
    if (entry?.originalSource) {
      const source = entry.originalSource.replace(/^.*?(src\/|node_modules\/)/, "$1");
      return `${name} ${source}:${entry.originalLine + 1}`;
    }
    return `${name} ${url.replace(/^.*\//, "")}:${lineNumber + 1}`;
  };
}

/** Self time per function and per file, as shares of all sampled time. */
export function summarizeProfile(profile, top = 25, sourceMapPath = DIST_SOURCE_MAP) {
  const nameOf = frameNamer(sourceMapPath);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byFile = new Map();
  for (const [id, us] of self) {
    const fn = nameOf(byId.get(id).callFrame);
    const file = fn.split(" ").at(-1).replace(/:\d+$/, "");
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  // Inclusive time: a node's self time counts for it and every ancestor (once per function).
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const fn = nameOf(byId.get(at).callFrame);
      if (fn === "(root) (native)" || seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
    }
  }
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return {
    totalMs: total / 1000,
    functions: rank(byFunction),
    inclusive: rank(inclusive),
    files: rank(byFile),
  };
}
