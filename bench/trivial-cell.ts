/**
 * Scenario "trivial cell, submit and wait": POST /api/v1/cells?wait=true
 * with `1+1`, driven by autocannon at a given concurrency.
 */
import autocannon from 'autocannon'

export interface ScenarioResult {
  scenario: string
  connections: number
  cellsPerSecond: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  requests: number
  errors: number
  non2xx: number
}

/**
 * @example
 *   const r = await runTrivialCell('http://127.0.0.1:8080', 32, 10)
 */
export async function runTrivialCell(baseUrl: string, connections: number, durationSeconds: number): Promise<ScenarioResult> {
  const result = await autocannon({
    url: `${baseUrl}/api/v1/cells?wait=true`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: '1+1' }),
    connections,
    duration: durationSeconds,
  })
  return {
    scenario: 'trivial cell, submit and wait',
    connections,
    cellsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

/** One line: rate, latencies, counts. */
export function formatResult(r: ScenarioResult): string {
  return (
    `${r.scenario} @ c=${r.connections}: ${r.cellsPerSecond.toFixed(0)} cells/s, ` +
    `p50 ${r.p50Ms} ms, p90 ${r.p90Ms} ms, p99 ${r.p99Ms} ms, ${r.requests} requests, ${r.errors} errors, ${r.non2xx} non-2xx`
  )
}

