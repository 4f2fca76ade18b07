/**
 * A job of very many outputs, and clients that replay it: for the tests and
 * the bench that show an event stream of a long job keeps the server
 * answering (server/stream-bounds.test.ts, bench/stream-replay.ts).
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Output } from '../../protocol/index.ts'
import type { Store } from '../../server/store/port.ts'

const READER = 'test/support/fixtures/replay-reader.ts'

/** Output `seq`, its text `padding` characters long (and a line number). */
export function longJobOutput(seq: number, padding = 0): Output {
  return { seq, stream: 'stdout', mime: 'text/plain', data: `${'.'.repeat(padding)}line ${seq}\n` }
}

/**
 * Submits a cell, then stores `count` outputs for it and its end as the
 * dispatcher's messages would (the dispatcher of these tests does nothing);
 * resolves with its event stream URL.
 *
 * @example
 *   const events = await storeLongJob(server.url, server.store, 150_000)
 */
export async function storeLongJob(baseUrl: string, store: Pick<Store, 'apply'>, count: number, padding = 0): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"1"}' })
  const { id } = (await res.json()) as { id: string }
  const outputs = Array.from({ length: count }, (_, i) => longJobOutput(i + 1, padding))
  await store.apply([{ jobId: id, outputs, transition: { from: ['queued'], to: 'running', patch: { startedAt: Date.now() } } }])
  await store.apply([{ jobId: id, transition: { from: ['running'], to: 'done', patch: { endedAt: Date.now(), result: { text: '1' } } } }])
  return `${baseUrl}/api/v1/cells/${id}/events`
}

export interface ReplayReader {
  /** The output count it last reported (every 1,000). */
  outputs: number
  /** `end <outputs> done` (or `no-done`) when its stream ended. */
  ended: Promise<string>
}

/**
 * A client reading the stream as fast as it can, in a process of its own
 * (fixtures/replay-reader.ts), so a server blocked on its replay cannot
 * slow the reader down, as it would one in its own process.
 *
 * @example
 *   const reader = startReplayReader(events)
 *   await reader.ended // 'end 150000 done'
 */
export function startReplayReader(url: string): ReplayReader {
  const child = spawn(process.execPath, ['--import', 'tsx', READER, url], { stdio: ['ignore', 'pipe', 'inherit'] })
  const reader: ReplayReader = { outputs: 0, ended: Promise.resolve('') }
  reader.ended = new Promise((resolve, reject) => {
    child.on('error', reject)
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('outputs ')) reader.outputs = Number(line.slice(8))
      if (line.startsWith('end ')) resolve(line)
    })
  })
  return reader
}
