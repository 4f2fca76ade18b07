/**
 * Scenario "submit, then follow the event stream to the end": POST a cell
 * that prints one line, open its event stream, read until `done`. The
 * latency is from the POST to the `done` event; a stream that ends without
 * the output or without `done`, or a cell that did not end `done`, is an
 * error. autocannon cannot read SSE, so this runs on loop-driver.ts.
 */
import { readEvents } from '../test/support/sse.ts'
import { runLoops } from './loop-driver.ts'
import type { ScenarioResult } from './scenario-result.ts'

export const STREAM_CODE = 'console.log("hi"); 1+1'
const STREAM_TIMEOUT_MS = 30_000

interface Submitted {
  id: string
  links: { events: string }
}

/**
 * Submits `code` and returns its id and event stream URL.
 *
 * @example
 *   const { events } = await submitCell(url, '1+1')
 */
export async function submitCell(baseUrl: string, code: string): Promise<{ id: string; events: string }> {
  const res = await fetch(`${baseUrl}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
  if (res.status !== 202) throw new Error(`POST /api/v1/cells answered ${res.status}: ${await res.text()}`)
  const job = (await res.json()) as Submitted
  return { id: job.id, events: `${baseUrl}${job.links.events}` }
}

/**
 * Reads a cell's event stream to its end; resolves with the outputs seen
 * and the final status, and throws if the stream ends without `done`.
 */
export async function followCell(eventsUrl: string, signal: AbortSignal, onFirstEvent?: () => void): Promise<{ outputs: number; status: string }> {
  let outputs = 0
  let first = true
  for await (const ev of readEvents(eventsUrl, { signal })) {
    if (first) {
      first = false
      onFirstEvent?.()
    }
    if (ev.event === 'output') outputs++
    if (ev.event === 'done') return { outputs, status: (ev.data as { status: string }).status }
  }
  throw new Error('the event stream ended without done')
}

/**
 * @example
 *   const r = await runStreamFollow('http://127.0.0.1:8080', 32, 10)
 */
export function runStreamFollow(baseUrl: string, concurrency: number, durationSeconds: number): Promise<ScenarioResult> {
  return runLoops({
    scenario: 'submit, follow events to done',
    concurrency,
    durationSeconds,
    iteration: async () => {
      const cell = await submitCell(baseUrl, STREAM_CODE)
      const end = await followCell(cell.events, AbortSignal.timeout(STREAM_TIMEOUT_MS))
      if (end.status !== 'done' || end.outputs !== 1) throw new Error(`cell ${cell.id} ended ${end.status} with ${end.outputs} outputs`)
    },
  })
}
