// Times each operation of primitives-worker.js: `times` in a row inside one request, best of three,
// so the request's own overhead is spread thin. Microseconds per operation.
export async function measurePrimitives({ runtime, times = 2_000 }) {
  const names = await (await fetch(`${runtime.http}/`)).json();
  const results = [];
  for (const name of names) {
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      const res = await fetch(`${runtime.http}/?op=${encodeURIComponent(name)}&times=${times}`);
      if ((await res.text()) !== "done") throw new Error(`primitive ${name} failed: ${res.status}`);
      best = Math.min(best, ((performance.now() - started) * 1000) / times);
    }
    results.push({ name, microseconds: best });
  }
  return results;
}
