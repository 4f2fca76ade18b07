/**
 * A message the store refuses is set aside, never the batch: on SQLite and
 * on MongoDB (FerretDB), the inbox stores the batch in halves down to the
 * refused message, ends its job `error` StoreRefused, tells the dispatcher
 * to cancel it, and stores and acks everything else. The refusal is the
 * backend's own error class, thrown for one output by a store wrapper under
 * guardStore (the store port is the seam), and, on MongoDB, a real one: a
 * result over its 16 MB document limit.
 *
 *   dispatcher --[started A B C, outputs A 1-8 (A 6 refused), end A, end B, outputs C 1-3, end C]--> inbox
 *     store: A error StoreRefused with outputs 1-5 · B done · C done with outputs 1-3
 *     link:  ack {A, B, C} · cancel {A}
 */
import Database from 'better-sqlite3'
import { MongoServerError } from 'mongodb'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DispatcherMessage, Output } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { metricValue } from '../telemetry/metrics.ts'
import { sampleJob } from '../test/support/contracts/store.ts'
import { mongoMissing, startTestMongo, type TestMongo } from '../test/support/ferretdb.ts'
import { describeWith } from '../test/support/needs.ts'
import { RecordingLink } from '../test/support/server.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { DispatcherInbox } from './dispatcher-inbox.ts'
import { ServerMetrics } from './metrics.ts'
import { guardStore } from './store/guard.ts'
import { MongoStore } from './store/mongo.ts'
import type { Store } from './store/port.ts'
import { SqliteStore } from './store/sqlite.ts'

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }
const REFUSED = 'the store refuses this output'

/** The store, refusing any apply that carries the output REFUSED with the error its backend throws for a refused value. */
function refusing(store: Store, refusal: () => Error): Store {
  return Object.assign(Object.create(store) as Store, {
    apply: (updates: Parameters<Store['apply']>[0]) => updates.some((u) => u.outputs?.some((o) => o.data === REFUSED)) ? Promise.reject(refusal()) : store.apply(updates),
  })
}

function out(jobId: string, msgSeq: number, seq: number, data = `${seq}`): DispatcherMessage {
  return { type: 'output', jobId, msgSeq, output: { seq, stream: 'stdout', mime: 'text/plain', data } }
}

async function setup(raw: Store, refusal: () => Error) {
  const store = guardStore(refusing(raw, refusal))
  const link = new RecordingLink()
  const registry = new Registry()
  const inbox = new DispatcherInbox({
    commit: (updates) => store.apply(updates), store, link, onNewBoot: async () => {}, logger: silentLogger(), metrics: new ServerMetrics(registry, link),
  })
  const jobs = [sampleJob(), sampleJob(), sampleJob()]
  for (const job of jobs) await raw.insertJob(job)
  return { store, link, inbox, jobs, refused: () => metricValue(registry, 'cellgate_store_refused_messages_total') }
}

function refusalSuite(kind: string, open: () => Promise<Store>, refusal: () => Error): void {
  it(`${kind}: sets aside the message the store refuses, ends its job error, and stores the rest of the batch`, async () => {
    const { store, link, inbox, jobs, refused } = await setup(await open(), refusal)
    const [a, b, c] = jobs.map((j) => j.id) as [string, string, string]
    const batch: DispatcherMessage[] = [a, b, c].map((jobId) => ({ type: 'started', jobId, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' }))
    for (let seq = 1; seq <= 8; seq++) batch.push(out(a, seq + 1, seq, seq === 6 ? REFUSED : `${seq}`))
    batch.push({ type: 'end', jobId: a, msgSeq: 10, end: { status: 'done', usage } })
    batch.push({ type: 'end', jobId: b, msgSeq: 2, end: { status: 'done', result: { text: '2', json: 2 }, usage } })
    for (let seq = 1; seq <= 3; seq++) batch.push(out(c, seq + 1, seq))
    batch.push({ type: 'end', jobId: c, msgSeq: 5, end: { status: 'done', usage } })

    inbox.receive(batch)
    await inbox.idle()

    const jobA = await store.getJob(a)
    expect(jobA).toMatchObject({ status: 'error', error: { name: 'StoreRefused' } })
    expect(jobA?.error?.message).toMatch(new RegExp(`^an output of this job could not be stored \\(the ${store.kind} store refused it: .+\\)$`))
    // Its outputs before the refused one are stored; after it the job had ended.
    expect((await store.getOutputs(a)).map((o: Output) => o.data)).toEqual(['1', '2', '3', '4', '5'])
    expect(await store.getJob(b)).toMatchObject({ status: 'done', result: { text: '2', json: 2 } })
    expect(await store.getJob(c)).toMatchObject({ status: 'done' })
    expect((await store.getOutputs(c)).map((o: Output) => o.data)).toEqual(['1', '2', '3'])
    expect(link.sent.flatMap((m) => (m.type === 'ack' ? m.acks : []))).toEqual([{ jobId: a, upTo: 10 }, { jobId: b, upTo: 2 }, { jobId: c, upTo: 5 }])
    expect(link.sent.filter((m) => m.type === 'cancel')).toEqual([{ type: 'cancel', jobId: a }])
    expect(await refused()).toBe(1)
  })
}

describe('DispatcherInbox, a message the store refuses', () => {
  const tmp = tempDir('cellgate-refusal-')
  const stores: Store[] = []
  afterAll(async () => {
    for (const store of stores) await store.close()
    tmp.remove()
  })
  let n = 0
  refusalSuite('sqlite', async () => {
    const store = new SqliteStore(`${tmp.dir}/${++n}`)
    stores.push(store)
    await store.open()
    return store
  }, () => new Database.SqliteError('CHECK constraint failed: output', 'SQLITE_CONSTRAINT_CHECK'))
})

describeWith(mongoMissing, 'DispatcherInbox on MongoDB, a message the store refuses', () => {
  let mongo: TestMongo
  const stores: Store[] = []
  beforeAll(async () => {
    mongo = await startTestMongo()
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    await mongo?.close()
  })
  const open = async () => {
    const store = new MongoStore({ uri: mongo.uri, dbName: mongo.newDbName() })
    stores.push(store)
    await store.open()
    return store
  }
  refusalSuite('mongodb', open, () => new MongoServerError({ message: 'Document failed validation', code: 121 }))

  it('mongodb: a result over the 16 MB document limit ends its job error; the other jobs\' ends are stored', async () => {
    const { store, link, inbox, jobs } = await setup(await open(), () => new Error('not used'))
    const [a, b, c] = jobs.map((j) => j.id) as [string, string, string]
    const huge = { text: 'big', json: 'x'.repeat(17 * 1024 * 1024) }
    inbox.receive([
      ...[a, b, c].map((jobId): DispatcherMessage => ({ type: 'started', jobId, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' })),
      out(a, 2, 1),
      { type: 'end', jobId: a, msgSeq: 3, end: { status: 'done', result: { text: 'a' }, usage } },
      { type: 'end', jobId: b, msgSeq: 2, end: { status: 'done', result: huge, usage: { ...usage, cpuMs: 42 } } },
      { type: 'end', jobId: c, msgSeq: 2, end: { status: 'done', result: { text: 'c' }, usage } },
    ])
    await inbox.idle()

    expect(await store.getJob(a)).toMatchObject({ status: 'done', result: { text: 'a' } })
    expect(await store.getOutputs(a)).toHaveLength(1)
    expect(await store.getJob(c)).toMatchObject({ status: 'done', result: { text: 'c' } })
    const jobB = await store.getJob(b)
    expect(jobB).toMatchObject({ status: 'error', result: null, usage: { cpuMs: 42 }, error: { name: 'StoreRefused' } })
    expect(jobB?.error?.message).toMatch(/^the end \(result\) of this job could not be stored \(the mongodb store refused it: Document is larger than the maximum size/)
    // Its end was the refused message: nothing left to cancel.
    expect(link.sent.filter((m) => m.type === 'cancel')).toEqual([])
  }, 60_000)
})
