/**
 * Runs one autocannon scenario at one concurrency and turns its result into
 * a ScenarioResult: the rate is 2xx answers per second, the percentiles come
 * from each 2xx answer's own response time (sub-millisecond; see
 * latency-stats.ts), and a progress line shows while it runs.
 */
import autocannon from 'autocannon'
import { summarize } from './latency-stats.ts'
import { startProgress } from './progress.ts'
import type { ScenarioResult } from './scenario-result.ts'

export type CannonOptions = Omit<autocannon.Options, 'connections' | 'duration'>

/**
 * @example
 *   const r = await runCannon('trivial cell', { url, method: 'POST', body }, 32, 10)
 */
export async function runCannon(scenario: string, options: CannonOptions, connections: number, durationSeconds: number): Promise<ScenarioResult> {
  const latencies: number[] = []
  let instance!: autocannon.Instance
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    // The callback form: its typings give the instance, whose events carry each response time.
    instance = autocannon({ ...options, connections, duration: durationSeconds }, (err, result) => (err ? reject(err) : resolve(result)))
  })
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
  })
  const progress = startProgress(`${scenario} c=${connections}`, durationSeconds, () => latencies.length)
  try {
    const result = await finished
    const stats = summarize(latencies)
    return {
      scenario,
      connections,
      cellsPerSecond: result['2xx'] / result.duration,
      p50Ms: stats.p50Ms,
      p90Ms: stats.p90Ms,
      p99Ms: stats.p99Ms,
      requests: result.requests.total,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      durationSeconds: result.duration,
    }
  } finally {
    progress.stop()
  }
}
