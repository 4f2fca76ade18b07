/**
 * Scenario "trivial cell, submit and wait": POST /api/v1/cells?wait=true
 * with `1+1`, driven by autocannon at a given concurrency; anonymous, or
 * with a key on every request (bench/keyed-cells.ts compares the two).
 */
import { runCannon } from './cannon.ts'
import type { ScenarioResult } from './scenario-result.ts'

export const TRIVIAL_CODE = '1+1'

/**
 * @example
 *   const r = await runTrivialCell('http://127.0.0.1:8080', 32, 10)
 *   const keyed = await runTrivialCell('http://127.0.0.1:8080', 32, 10, 'cg_sk_…')
 */
export function runTrivialCell(baseUrl: string, connections: number, durationSeconds: number, key?: string): Promise<ScenarioResult> {
  return runCannon(key ? 'trivial cell with a key' : 'trivial cell, submit and wait', {
    url: `${baseUrl}/api/v1/cells?wait=true`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ code: TRIVIAL_CODE }),
  }, connections, durationSeconds)
}
