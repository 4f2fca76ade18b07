/**
 * followJob in-process, over a real SQLite store: what this process stores
 * arrives through the hub, what "another instance" stores (written to the
 * store without the hub) through polling; resuming after a seq, no doubles
 * between the first store read and live events, the end on done, on abort
 * and on a store failure.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DispatcherMessage } from '../protocol/index.ts'
import { followJob, type JobStreamDeps, type JobStreamEvent } from './job-stream.ts'
import { capturingLogger } from '../test/support/logs.ts'
import { type LogRecord } from '../test/support/logs.ts'
import { inProcessServer, TEST_CALLER, type InProcessServer } from '../test/support/server.ts'

let s: InProcessServer
let deps: JobStreamDeps
let records: LogRecord[]

beforeEach(async () => {
  s = await inProcessServer()
  const captured = capturingLogger()
  records = captured.records
  deps = { store: s.store, hub: s.hub, pollMs: 20, pageSize: 1000, logger: captured.logger }
})
afterEach(async () => {
  await s.close()
})

const output = (jobId: string, seq: number): DispatcherMessage =>
  ({ type: 'output', jobId, msgSeq: seq + 1, output: { seq, stream: 'stdout', mime: 'text/plain', data: `${seq}\n` } })
const started = (jobId: string): DispatcherMessage => ({ type: 'started', jobId, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' })
const ended = (jobId: string, msgSeq: number): DispatcherMessage => ({ type: 'end', jobId, msgSeq, end: { status: 'done', result: { text: '1' } } })

/** Stores as this process does on messages from the dispatcher: store, then hub. */
async function deliver(messages: DispatcherMessage[]): Promise<void> {
  s.link.deliver(messages)
  await s.jobs.idle()
}

async function newJob(): Promise<string> {
  return (await s.jobs.submit(TEST_CALLER, { code: 'x' })).id
}

async function summary(event: JobStreamEvent): Promise<string> {
  if (event.type === 'status') return `status:${event.status}`
  if (event.type === 'output') return `output:${event.output.seq}`
  const seqs: number[] = []
  for await (const page of event.outputs()) seqs.push(...page.map((o) => o.seq))
  return `done:${seqs.join(',')}`
}

/** Every event as a short string, into `seen` as they come (so a test can wait for one), until the iteration ends. */
async function collect(events: AsyncIterable<JobStreamEvent[]> | null, seen: string[] = []): Promise<string[]> {
  for await (const batch of events!) for (const event of batch) seen.push(await summary(event))
  return seen
}

describe('followJob', () => {
  it('yields the stored outputs after the seq, then live ones, then done, and unsubscribes', async () => {
    const id = await newJob()
    await deliver([started(id), output(id, 1), output(id, 2)])
    const reading = collect(await followJob(deps, id, 1, new AbortController().signal))
    await deliver([output(id, 3)])
    await deliver([output(id, 4), ended(id, 6)])
    expect(await reading).toEqual(['status:running', 'output:2', 'output:3', 'output:4', 'status:done', 'done:1,2,3,4'])
    expect(s.hub.size).toBe(0)
  })

  it('yields an output stored between its subscription and its store read once', async () => {
    const id = await newJob()
    await deliver([started(id), output(id, 1)])
    const getOutputs = deps.store.getOutputs.bind(deps.store)
    deps.store = {
      getJob: (jobId) => s.store.getJob(jobId),
      getOutputs: async (jobId, after, limit) => {
        deps.store.getOutputs = getOutputs
        await deliver([output(id, 2)]) // live to the hub, and in the store for the read
        return getOutputs(jobId, after, limit)
      },
    }
    const reading = collect(await followJob(deps, id, 0, new AbortController().signal))
    await expect.poll(() => s.hub.size).toBe(1)
    await deliver([output(id, 3), ended(id, 5)])
    expect(await reading).toEqual(['status:running', 'output:1', 'output:2', 'output:3', 'status:done', 'done:1,2,3'])
  })

  it('reads a long job in pages, and a live flood past a page that its reader has not taken from the store, each output once', async () => {
    deps.pageSize = 4
    const id = await newJob()
    await deliver([started(id), ...[1, 2, 3, 4, 5, 6].map((seq) => output(id, seq))])
    const iterator = (await followJob(deps, id, 0, new AbortController().signal))![Symbol.asyncIterator]()
    const batches: string[][] = []
    const next = async () => {
      const { value } = await iterator.next()
      batches.push(await Promise.all((value as JobStreamEvent[]).map(summary)))
    }
    for (let i = 0; i < 3; i++) await next()
    expect(batches).toEqual([['status:running'], ['output:1', 'output:2', 'output:3', 'output:4'], ['output:5', 'output:6']])
    // Now live, and slow: 24 more arrive while it has not taken one, far over the page its inbox keeps.
    const waiting = iterator.next()
    await deliver([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18].map((seq) => output(id, seq)))
    await deliver([...[19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30].map((seq) => output(id, seq)), ended(id, 32)])
    const first = await Promise.all(((await waiting).value as JobStreamEvent[]).map(summary))
    const rest = await collect({ [Symbol.asyncIterator]: () => iterator })
    const seqs = [...first, ...rest].filter((e) => e.startsWith('output:')).map((e) => Number(e.slice(7)))
    expect(seqs).toEqual(Array.from({ length: 24 }, (_, i) => i + 7))
    expect(rest.slice(-2)).toEqual(['status:done', `done:${Array.from({ length: 30 }, (_, i) => i + 1).join(',')}`])
    expect(s.hub.size).toBe(0)
  })

  it('sees what another instance stores by reading the store while the job runs', async () => {
    const id = await newJob()
    const seen: string[] = []
    const reading = collect(await followJob(deps, id, 0, new AbortController().signal), seen)
    // Written as another web instance would: into the shared store, never through this process's hub.
    await s.store.apply([{ jobId: id, transition: { from: ['queued'], to: 'running', patch: { startedAt: Date.now() } } }])
    await expect.poll(() => seen).toContain('status:running')
    await s.store.apply([{
      jobId: id,
      outputs: [{ seq: 1, stream: 'stdout', mime: 'text/plain', data: 'a' }, { seq: 2, stream: 'stdout', mime: 'text/plain', data: 'b' }],
      transition: { from: ['running'], to: 'done', patch: { endedAt: Date.now() } },
    }])
    expect(await reading).toEqual(['status:queued', 'status:running', 'output:1', 'output:2', 'status:done', 'done:1,2'])
  })

  it('ends when its signal aborts, and says null for an unknown job', async () => {
    const id = await newJob()
    const abort = new AbortController()
    const events = await followJob(deps, id, 0, abort.signal)
    const seen: string[] = []
    for await (const batch of events!) {
      for (const event of batch) seen.push(await summary(event))
      abort.abort()
    }
    expect(seen).toEqual(['status:queued'])
    expect(s.hub.size).toBe(0)

    expect(await followJob(deps, 'AAAAAAAAAAAAAAAA', 0, new AbortController().signal)).toBeNull()
    expect(s.hub.size).toBe(0)
  })

  it('logs a store failure and ends', async () => {
    const id = await newJob()
    const reading = collect(await followJob(deps, id, 0, new AbortController().signal))
    await s.store.close() // the next poll fails
    expect(await reading).toEqual(['status:queued'])
    expect(records).toContainEqual(expect.objectContaining({ level: 50, job: id, msg: 'following a job failed' }))
    expect(s.hub.size).toBe(0)
  })
})
