/**
 * Scenario "mix": 90% trivial cells and 10% cells that compute for about
 * 50 ms, submit and wait. Each connection walks the same ten requests in
 * turn (autocannon's `requests` array), so the mix is exact at any
 * concurrency and the slow cells are spread over time.
 */
import { runCannon } from './cannon.ts'
import type { ScenarioResult } from './scenario-result.ts'
import { TRIVIAL_CODE } from './trivial-cell.ts'

/** Busy for ~50 ms of CPU: a cell that computes, not one that sleeps on a timer. */
export const COMPUTE_50MS_CODE = 'const t0 = Date.now(); let n = 0; while (Date.now() - t0 < 50) n++; n > 0'

/**
 * @example
 *   const r = await runMixedCells('http://127.0.0.1:8080', 32, 10)
 */
export function runMixedCells(baseUrl: string, connections: number, durationSeconds: number): Promise<ScenarioResult> {
  const request = (code: string) => ({ method: 'POST' as const, path: '/api/v1/cells?wait=true', body: JSON.stringify({ code }) })
  return runCannon('mix 90% trivial / 10% 50 ms', {
    url: baseUrl,
    headers: { 'content-type': 'application/json' },
    requests: [...Array.from({ length: 9 }, () => request(TRIVIAL_CODE)), request(COMPUTE_50MS_CODE)],
  }, connections, durationSeconds)
}
