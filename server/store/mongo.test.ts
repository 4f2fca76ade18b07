/**
 * The store contract on the MongoDB adapter, against a real FerretDB (or the
 * MongoDB named by MONGODB_URI), plus what only this adapter promises:
 * indexes made idempotently, health that survives the server going away,
 * batched writes with `majority`, values whose keys MongoDB dislikes, and
 * the idempotent import the migration command uses.
 */
import { MongoClient, type CommandStartedEvent } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Output } from '../../protocol/index.ts'
import { mongoMissing, startTestMongo, type TestMongo } from '../../test/support/ferretdb.ts'
import { describeWith } from '../../test/support/needs.ts'
import { runStoreContract, sampleJob } from '../../test/support/contracts/store.ts'
import { MongoStore, type MongoStoreOptions, type StatusRead } from './mongo.ts'

function out(seq: number, data = `line ${seq}\n`): Output {
  return { seq, stream: 'stdout', mime: 'text/plain', data }
}

describeWith(mongoMissing, 'MongoStore', () => {
  let mongo: TestMongo
  const dropAfter: MongoStoreOptions[] = []

  beforeAll(async () => {
    mongo = await startTestMongo()
  })

  afterAll(async () => {
    if (!mongo) return
    if (mongo.kind === 'external') for (const options of dropAfter) await dropDatabase(options)
    await mongo.close()
  })

  runStoreContract('mongodb', async () => {
    const options = { uri: mongo.uri, dbName: mongo.newDbName() }
    return {
      store: new MongoStore(options),
      reopen: () => new MongoStore(options),
      destroy: () => dropDatabase(options),
    }
  })

  /** A store on a database of its own, opened, dropped when the file ends (on a server we did not start). */
  async function openStore(extra: Partial<MongoStoreOptions> = {}): Promise<MongoStore> {
    const options = { uri: mongo.uri, dbName: mongo.newDbName(), ...extra }
    dropAfter.push(options)
    const store = new MongoStore(options)
    await store.open()
    return store
  }

  /** Every command the store's client sends while `body` runs. */
  async function commandsDuring(store: MongoStore, body: () => Promise<unknown>): Promise<CommandStartedEvent[]> {
    const seen: CommandStartedEvent[] = []
    const listener = (event: CommandStartedEvent) => seen.push(event)
    store.client.on('commandStarted', listener)
    try {
      await body()
    } finally {
      store.client.off('commandStarted', listener)
    }
    return seen
  }

  describe('MongoDB specifics', () => {
    it('creates its indexes once, however often it is opened', async () => {
      const store = await openStore()
      await store.open()
      const again = new MongoStore({ uri: mongo.uri, dbName: store.dbName })
      await again.open()
      await again.close()
      const db = store.client.db(store.dbName)
      expect((await db.collection('outputs').indexes()).find((i) => i.name === 'jobId_seq')).toMatchObject({ key: { jobId: 1, seq: 1 }, unique: true })
      expect((await db.collection('jobs').indexes()).map((i) => i.name)).toEqual(expect.arrayContaining(['status_createdAt', 'endedAt']))
      await store.close()
    })

    it('creates the unique and lookup indexes of accounts and keys', async () => {
      const store = await openStore()
      const db = store.client.db(store.dbName)
      const keys = await db.collection('keys').indexes()
      expect(keys.find((i) => i.name === 'secretHash')).toMatchObject({ key: { secretHash: 1 }, unique: true })
      expect(keys.find((i) => i.name === 'ancestors')).toMatchObject({ key: { ancestors: 1 } })
      const accounts = await db.collection('accounts').indexes()
      expect(accounts.find((i) => i.name === 'name')).toMatchObject({ key: { name: 1 }, unique: true })
      // FerretDB does not report `sparse`; it leaves documents without the fields out of a unique index anyway (the contract checks both).
      const sparse = mongo.kind === 'ferretdb' ? {} : { sparse: true }
      expect(accounts.find((i) => i.name === 'oidc')).toMatchObject({ key: { 'oidc.issuer': 1, 'oidc.subject': 1 }, unique: true, ...sparse })
      expect((await db.collection('audit').indexes()).map((i) => i.name)).toContain('at_id')
      await store.close()
    })

    it('reads jobs, sessions and notebooks written before keys, owners and fair shares with the defaults', async () => {
      const store = await openStore()
      const db = store.client.db(store.dbName)
      // An old job's turn is its owner's: an anonymous one shares the one `anonymous` turn.
      const job = sampleJob({ status: 'done', account: 'anonymous' })
      const { keyId: _keyId, private: _private, account: _account, id, ...oldJob } = { ...job, createdAt: new Date(job.createdAt), startedAt: null, endedAt: null }
      await db.collection('jobs').insertOne({ _id: id as never, ...oldJob })
      await db.collection('sessions').insertOne({
        _id: 'oldsession' as never, status: 'ended', owner: 'anonymous', client: '::1', memoryMb: 64, createdAt: new Date(10), lastUsedAt: new Date(11),
        endedAt: new Date(12), endReason: 'idle', cells: 3,
      })
      await db.collection('notebooks').insertOne({ _id: 'oldnotebook' as never, title: 'Old', cells: '[{"code":"1"}]', createdAt: new Date(10), updatedAt: new Date(20) })
      expect(await store.getJob(id)).toEqual(job)
      expect(await store.getSession('oldsession')).toMatchObject({ owner: 'anonymous', keyId: null, cells: 3, endedAt: 12 })
      expect(await store.getNotebook('oldnotebook')).toEqual({ id: 'oldnotebook', title: 'Old', cells: [{ code: '1' }], owner: 'anonymous', keyId: null, createdAt: 10, updatedAt: 20 })
      expect((await store.listNotebooksByOwner('anonymous', 5)).map((n) => n.id)).toEqual(['oldnotebook'])
      await store.close()
    })

    it('writes a thousand outputs of one job as a handful of commands, with majority', async () => {
      const store = await openStore({ clientOptions: { monitorCommands: true } })
      const job = sampleJob({ status: 'running' })
      await store.insertJob(job)
      const outputs = Array.from({ length: 1000 }, (_, i) => out(i + 1))
      let inserted: Output[] = []
      const commands = await commandsDuring(store, async () => {
        const [result] = await store.apply([{ jobId: job.id, outputs, transition: { from: ['running'], to: 'done', patch: { endedAt: 7 } } }])
        inserted = result!.inserted
      })
      expect(inserted).toHaveLength(1000)
      expect(commands.map((c) => c.commandName)).toEqual(['find', 'insert', 'update'])
      for (const c of commands.filter((c) => c.commandName !== 'find')) expect(c.command.writeConcern).toMatchObject({ w: 'majority' })
      expect(await store.getOutputs(job.id, 998)).toEqual([out(999), out(1000)])
      expect((await store.getJob(job.id))?.status).toBe('done')
      await store.close()
    })

    it('reports the new outputs of a large batch that is mostly stored already', async () => {
      const store = await openStore()
      const job = sampleJob({ status: 'running' })
      await store.insertJob(job)
      await store.apply([{ jobId: job.id, outputs: Array.from({ length: 500 }, (_, i) => out(2 * i + 1)) }])
      const [result] = await store.apply([{ jobId: job.id, outputs: Array.from({ length: 1000 }, (_, i) => out(i + 1, 'again')) }])
      expect(result!.inserted).toEqual(Array.from({ length: 500 }, (_, i) => out(2 * i + 2, 'again')))
      expect((await store.getOutputs(job.id)).filter((o) => o.data === 'again')).toHaveLength(500)
      await store.close()
    })

    it('keeps result values whose keys contain dots or dollars', async () => {
      const store = await openStore()
      const json = { 'a.b': 1, $where: [{ 'c.d': null }], nested: { $x: 'y' } }
      const job = sampleJob({ status: 'running' })
      await store.insertJob({ ...job, result: { text: 'inserted', json } })
      expect((await store.getJob(job.id))?.result).toEqual({ text: 'inserted', json })
      await store.apply([{ jobId: job.id, transition: { from: ['running'], to: 'done', patch: { result: { text: 'patched', json } } } }])
      expect((await store.getJob(job.id))?.result).toEqual({ text: 'patched', json })
      await store.close()
    })

    it('imports jobs with their outputs once, however often it runs', async () => {
      const store = await openStore()
      const done = sampleJob({ status: 'done', endedAt: 1_700_000_000_900 })
      const quiet = sampleJob({ status: 'error', error: { name: 'E', message: 'm' } })
      const entries = [{ job: done, outputs: [out(1), out(2)] }, { job: quiet, outputs: [] }]
      expect(await store.importJobs(entries)).toEqual({ jobs: 2, outputs: 2 })
      expect(await store.importJobs(entries)).toEqual({ jobs: 0, outputs: 0 })
      expect(await store.getJob(done.id)).toEqual(done)
      expect(await store.getJob(quiet.id)).toEqual(quiet)
      expect(await store.getOutputs(done.id)).toEqual([out(1), out(2)])
      await store.close()
    })

    it('tells which transitions applied when another writer moved a job after the batch read it', async () => {
      const options = { uri: mongo.uri, dbName: mongo.newDbName() }
      dropAfter.push(options)
      const other = new MongoStore(options)
      await other.open()
      const started = sampleJob()
      const ended = sampleJob({ status: 'running' })
      for (const job of [started, ended]) await other.insertJob(job)
      // The other writer starts one job and ends the other; then this store applies a batch planned from the old statuses.
      await other.apply([
        { jobId: started.id, transition: { from: ['queued'], to: 'running', patch: { sandboxId: 'other' } } },
        { jobId: ended.id, transition: { from: ['running'], to: 'cancelled' } },
      ])
      const stale = new StaleReadStore(options, new Map([[started.id, { ...started, status: 'queued' }], [ended.id, { ...ended, status: 'running' }]]))
      await stale.open()
      const results = await stale.apply([
        { jobId: started.id, transition: { from: ['queued'], to: 'running', patch: { sandboxId: 'mine' } } },
        { jobId: started.id, transition: { from: ['running'], to: 'done', patch: { endedAt: 9 } } },
        { jobId: ended.id, transition: { from: ['running'], to: 'done' } },
      ])
      expect(results.map((r) => r.transitioned)).toEqual([false, true, false])
      expect(await stale.getJob(started.id)).toEqual({ ...started, status: 'done', sandboxId: 'other', endedAt: 9 })
      expect((await stale.getJob(ended.id))?.status).toBe('cancelled')
      await Promise.all([stale.close(), other.close()])
    })

    it('lets exactly one of two instances racing on a job move it', async (ctx) => {
      if (mongo.kind === 'ferretdb') ctx.skip('FerretDB v1 updates are read-modify-write, not atomic: racing writers may both pass a guard')
      const options = { uri: mongo.uri, dbName: mongo.newDbName() }
      dropAfter.push(options)
      const [a, b] = [new MongoStore(options), new MongoStore(options)]
      await Promise.all([a.open(), b.open()])
      const jobs = Array.from({ length: 50 }, () => sampleJob({ status: 'running' }))
      for (const job of jobs) await a.insertJob(job)
      const [byA, byB] = await Promise.all([
        a.apply(jobs.map((job) => ({ jobId: job.id, transition: { from: ['running'] as const, to: 'done' as const } }))),
        b.apply(jobs.map((job) => ({ jobId: job.id, transition: { from: ['running'] as const, to: 'lost' as const } }))),
      ])
      for (const [i, job] of jobs.entries()) {
        expect(byA[i]!.transitioned).not.toBe(byB[i]!.transitioned)
        expect((await a.getJob(job.id))?.status).toBe(byA[i]!.transitioned ? 'done' : 'lost')
      }
      await Promise.all([a.close(), b.close()])
    })

    it('says it is unhealthy while the server is down, and recovers when it is back', async (ctx) => {
      if (mongo.kind === 'external') ctx.skip('the server named by MONGODB_URI cannot be stopped by a test')
      // A short server selection time, so the call made during the outage fails soon instead of after 30 s.
      const store = await openStore({ healthTimeoutMs: 500, clientOptions: { serverSelectionTimeoutMS: 1_000 } })
      const job = sampleJob()
      await store.insertJob(job)
      expect(await store.health()).toMatchObject({ ok: true })

      await mongo.stop()
      const down = await store.health()
      expect(down).toMatchObject({ ok: false, kind: 'mongodb' })
      expect(down.detail).toBeTruthy()
      await expect(store.getJob(job.id)).rejects.toThrow()

      await mongo.restart()
      // The driver notices a server that is back within a heartbeat or two.
      await expect.poll(async () => (await store.health()).ok, { timeout: 15_000, interval: 250 }).toBe(true)
      expect(await store.getJob(job.id)).toEqual(job)
      const [started] = await store.apply([{ jobId: job.id, transition: { from: ['queued'], to: 'running' } }])
      expect(started?.transitioned).toBe(true)
      await store.close()
    })
  })
})

/** Plans its first batch from the statuses it is given instead of reading them. */
class StaleReadStore extends MongoStore {
  constructor(options: MongoStoreOptions, private stale: Map<string, StatusRead> | null) {
    super(options)
  }

  protected override async readStatuses(jobIds: readonly string[]): Promise<Map<string, StatusRead>> {
    const stale = this.stale
    this.stale = null
    return stale ?? super.readStatuses(jobIds)
  }
}

async function dropDatabase({ uri, dbName }: MongoStoreOptions): Promise<void> {
  const client = new MongoClient(uri)
  try {
    await client.db(dbName).dropDatabase()
  } finally {
    await client.close()
  }
}
