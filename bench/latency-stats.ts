/**
 * Percentiles of measured latencies. autocannon's histogram keeps whole
 * milliseconds, too coarse for a cell that answers in 1–3 ms, so every
 * driver here records each latency itself (sub-millisecond, from
 * performance.now) and summarises it with these functions.
 */

export interface LatencySummary {
  count: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
}

/**
 * The nearest-rank percentile (p in 0..100) of values sorted ascending;
 * NaN for no values.
 *
 * @example
 *   percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/**
 * @example
 *   summarize([3.2, 1.1, 2.5]).p50Ms // 2.5
 */
export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort()
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
  }
}

/** Three decimals: microseconds are the finest a latency is worth. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
