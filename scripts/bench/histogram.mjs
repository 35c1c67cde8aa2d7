// A log-linear latency histogram in the spirit of HdrHistogram: every power of two is split into
// SUB_BUCKETS linear buckets, so any recorded value is reported within 1/SUB_BUCKETS (< 1%) of itself,
// in constant memory, however many samples a run records.

const SUB_BUCKETS = 128;
const SUB_BITS = Math.log2(SUB_BUCKETS);

/** Latencies in milliseconds, stored as integer microseconds. */
export class Histogram {
  counts = new Map();
  count = 0;
  max = 0;
  min = Number.POSITIVE_INFINITY;

  record(ms) {
    const us = Math.max(1, Math.round(ms * 1000));
    const bucket = bucketOf(us);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  /** The value at percentile p (0..100), in milliseconds; the exact max at 100. */
  percentile(p) {
    if (this.count === 0) return Number.NaN;
    if (p >= 100) return this.max;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket);
      if (seen >= rank) return Math.min(this.max, upperEdgeOf(bucket) / 1000);
    }
    return this.max;
  }

  summary() {
    return {
      count: this.count,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.count ? this.max : Number.NaN,
    };
  }
}

/** Values below SUB_BUCKETS get a bucket each; above, 2^k..2^(k+1) splits into SUB_BUCKETS buckets. */
function bucketOf(us) {
  if (us < SUB_BUCKETS) return us;
  const magnitude = Math.floor(Math.log2(us)) - SUB_BITS;
  const sub = Math.floor(us / 2 ** magnitude) - SUB_BUCKETS;
  return (magnitude + 1) * SUB_BUCKETS + sub;
}

function upperEdgeOf(bucket) {
  if (bucket < SUB_BUCKETS) return bucket;
  const magnitude = Math.floor(bucket / SUB_BUCKETS) - 1;
  const sub = bucket % SUB_BUCKETS;
  return (SUB_BUCKETS + sub + 1) * 2 ** magnitude - 1;
}
