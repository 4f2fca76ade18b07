/**
 * A bounded load driver for what autocannon cannot drive (event streams,
 * Jupyter's WebSocket, isolates in this process): `concurrency` loops, each
 * running one iteration after another until the time is up; an iteration
 * that throws is an error. Iterations still going at the end are awaited
 * (each must bound itself) and counted.
 */
import { summarize } from './latency-stats.ts'
import { startProgress } from './progress.ts'
import type { ScenarioResult } from './scenario-result.ts'

export interface LoopOptions {
  scenario: string
  concurrency: number
  durationSeconds: number
  /** One unit of work by loop number `loop`; resolves when it succeeded. */
  iteration: (loop: number) => Promise<void>
}

/**
 * @example
 *   const r = await runLoops({ scenario: 'x', concurrency: 8, durationSeconds: 10, iteration: async () => { await work() } })
 */
export async function runLoops(options: LoopOptions): Promise<ScenarioResult> {
  const latencies: number[] = []
  let errors = 0
  let firstError: unknown
  const start = performance.now()
  const deadline = start + options.durationSeconds * 1000
  const progress = startProgress(`${options.scenario} c=${options.concurrency}`, options.durationSeconds, () => latencies.length)
  const loop = async (index: number) => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        await options.iteration(index)
        latencies.push(performance.now() - t0)
      } catch (err) {
        errors++
        firstError ??= err
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(i)))
  } finally {
    progress.stop()
  }
  const elapsedSeconds = (performance.now() - start) / 1000
  if (firstError) console.warn(`${options.scenario} c=${options.concurrency}: ${errors} errors, the first: ${(firstError as Error).message ?? firstError}`)
  const stats = summarize(latencies)
  return {
    scenario: options.scenario,
    connections: options.concurrency,
    cellsPerSecond: latencies.length / elapsedSeconds,
    p50Ms: stats.p50Ms,
    p90Ms: stats.p90Ms,
    p99Ms: stats.p99Ms,
    requests: latencies.length + errors,
    errors,
    non2xx: 0,
    durationSeconds: elapsedSeconds,
  }
}
