/**
 * The promises of the Store port (port.ts) as one test suite, run against
 * every adapter: `sqlite.test.ts` runs it on SQLite, `mongo.test.ts` on
 * MongoDB. Adapter-neutral: it only calls the port. The promises about
 * principals and owners are in principal-store.ts, run from here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Output } from '../../../protocol/index.ts'
import { LIVE_STATUSES as LIVE, type Store } from '../../../server/store/port.ts'
import { runPrincipalContract } from './principal-store.ts'
import { sampleJob, sampleSession } from './samples.ts'

export { sampleJob, sampleSession }

export interface StoreUnderTest {
  /** A fresh, empty store, not yet opened. */
  store: Store
  /** A new store over the same data, used after `store` is closed; omit when the adapter keeps nothing. */
  reopen?: () => Store
  /** Drops what the factory made (temporary directories, databases). */
  destroy?: () => Promise<void>
}

function out(seq: number, data = `line ${seq}\n`): Output {
  return { seq, stream: 'stdout', mime: 'text/plain', data }
}

/**
 * @example
 *   runStoreContract('sqlite', async () => ({ store: new SqliteStore(dir), reopen: () => new SqliteStore(dir) }))
 */
export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`store contract: ${name}`, () => {
    let subject: StoreUnderTest
    let store: Store

    beforeEach(async () => {
      subject = await makeStore()
      store = subject.store
      await store.open()
    })

    afterEach(async () => {
      await store.close()
      await subject.destroy?.()
    })

    it('opens idempotently and reports health with its kind', async () => {
      await store.open()
      expect(await store.health()).toMatchObject({ ok: true, kind: store.kind })
    })

    it('returns an inserted job as it was given, and null for an unknown id', async () => {
      const job = sampleJob({
        code: 'console.log("é ✓")',
        result: { text: '{ a: [1, 2] }', json: { a: [1, 2], b: null } },
        error: { name: 'TypeError', message: 'x', stack: 'at <cell>:1' },
        usage: { cpuMs: 1.5, wallMs: 2, heapBytes: 1024, outputBytes: 10 },
        status: 'done',
        startedAt: 1_700_000_000_500,
        endedAt: 1_700_000_000_900,
        dispatcherBoot: 'boot-1',
        sandboxId: 'sb-1',
      })
      await store.insertJob(job)
      expect(await store.getJob(job.id)).toEqual(job)
      expect(await store.getJob('nosuchjob000')).toBeNull()
    })

    it('refuses a second job with the same id', async () => {
      const job = sampleJob()
      await store.insertJob(job)
      await expect(store.insertJob({ ...job, code: 'other' })).rejects.toThrow()
      expect((await store.getJob(job.id))?.code).toBe(job.code)
    })

    it('settles inserts made at once each on its own', async () => {
      const a = sampleJob()
      const b = sampleJob()
      const settled = await Promise.allSettled([store.insertJob(a), store.insertJob({ ...a, code: 'twin' }), store.insertJob(b)])
      expect(settled.filter((r, i) => i < 2 && r.status === 'fulfilled')).toHaveLength(1)
      expect(settled[2]?.status).toBe('fulfilled')
      expect(await store.getJob(b.id)).toEqual(b)
      expect((await store.getJob(a.id))?.id).toBe(a.id)
    })

    it('returns outputs in seq order, per job, and only those after a seq', async () => {
      const a = sampleJob({ status: 'running' })
      const b = sampleJob({ status: 'running' })
      await store.insertJob(a)
      await store.insertJob(b)
      await store.apply([{ jobId: a.id, outputs: [out(2), out(1)] }, { jobId: b.id, outputs: [out(1, 'b')] }])
      await store.apply([{ jobId: a.id, outputs: [out(3)] }])
      expect(await store.getOutputs(a.id)).toEqual([out(1), out(2), out(3)])
      expect(await store.getOutputs(a.id, 1)).toEqual([out(2), out(3)])
      expect(await store.getOutputs(a.id, 3)).toEqual([])
      expect(await store.getOutputs(b.id)).toEqual([out(1, 'b')])
      expect(await store.getOutputs('nosuchjob000')).toEqual([])
    })

    it('reads outputs page by page: at most `limit` after a seq, each page after the last seq of the one before', async () => {
      const job = sampleJob({ status: 'running' })
      const other = sampleJob({ status: 'running' })
      await store.insertJob(job)
      await store.insertJob(other)
      // Stored out of order and beside another job's, so a page cannot lean on insertion order.
      const seqs = Array.from({ length: 25 }, (_, i) => 25 - i)
      await store.apply([{ jobId: job.id, outputs: seqs.map((seq) => out(seq)) }, { jobId: other.id, outputs: [out(1, 'other'), out(30, 'other')] }])
      expect(await store.getOutputs(job.id, 0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((seq) => out(seq)))
      const pages: number[][] = []
      for (let after = 0, page = await store.getOutputs(job.id, after, 10); page.length > 0; page = await store.getOutputs(job.id, after, 10)) {
        pages.push(page.map((o) => o.seq))
        after = page.at(-1)!.seq
      }
      expect(pages).toEqual([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [21, 22, 23, 24, 25]])
      expect(await store.getOutputs(job.id, 24, 10)).toEqual([out(25)])
      expect(await store.getOutputs(job.id, 7, 1)).toEqual([out(8)])
      expect(await store.getOutputs(job.id, 25, 10)).toEqual([])
      expect(await store.getOutputs(other.id, 0, 1)).toEqual([out(1, 'other')])
    })

    it('stores each (job, seq) once and reports only the newly inserted outputs', async () => {
      const job = sampleJob({ status: 'running' })
      await store.insertJob(job)
      const [first] = await store.apply([{ jobId: job.id, outputs: [out(1), out(2)] }])
      expect(first).toEqual({ jobId: job.id, transitioned: false, inserted: [out(1), out(2)] })
      const [again] = await store.apply([{ jobId: job.id, outputs: [out(2, 'changed'), out(3)] }])
      expect(again?.inserted).toEqual([out(3)])
      expect(await store.getOutputs(job.id)).toEqual([out(1), out(2), out(3)])
    })

    it('drops outputs of a finished or unknown job', async () => {
      const job = sampleJob({ status: 'done' })
      await store.insertJob(job)
      const results = await store.apply([
        { jobId: job.id, outputs: [out(1)] },
        { jobId: 'nosuchjob000', outputs: [out(1)] },
      ])
      expect(results.map((r) => r.inserted)).toEqual([[], []])
      expect(await store.getOutputs(job.id)).toEqual([])
    })

    it('applies a transition only from the given statuses, with its patch', async () => {
      const job = sampleJob()
      await store.insertJob(job)
      const patch = { startedAt: 1_700_000_001_000, dispatcherBoot: 'boot-1', sandboxId: 'sb-1' }
      const [started] = await store.apply([{ jobId: job.id, transition: { from: ['queued'], to: 'running', patch } }])
      expect(started?.transitioned).toBe(true)
      expect(await store.getJob(job.id)).toEqual({ ...job, status: 'running', ...patch })

      const [twice] = await store.apply([{ jobId: job.id, transition: { from: ['queued'], to: 'running', patch: { sandboxId: 'sb-2' } } }])
      expect(twice?.transitioned).toBe(false)
      expect((await store.getJob(job.id))?.sandboxId).toBe('sb-1')

      const [unknown] = await store.apply([{ jobId: 'nosuchjob000', transition: { from: LIVE, to: 'lost' } }])
      expect(unknown).toEqual({ jobId: 'nosuchjob000', transitioned: false, inserted: [] })
    })

    it('never moves a finished job back, and keeps fields a patch does not name', async () => {
      const job = sampleJob({ status: 'running', startedAt: 1_700_000_001_000, dispatcherBoot: 'boot-1' })
      await store.insertJob(job)
      const end = {
        endedAt: 1_700_000_002_000,
        result: { text: '2', json: 2 },
        usage: { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 },
      }
      const [ended] = await store.apply([{ jobId: job.id, transition: { from: LIVE, to: 'done', patch: end } }])
      expect(ended?.transitioned).toBe(true)
      const late = await store.apply([
        { jobId: job.id, transition: { from: ['queued'], to: 'running', patch: { startedAt: 1 } } },
        { jobId: job.id, transition: { from: LIVE, to: 'lost', patch: { error: { name: 'Lost', message: 'late' } } } },
      ])
      expect(late.map((r) => r.transitioned)).toEqual([false, false])
      expect(await store.getJob(job.id)).toEqual({ ...job, status: 'done', ...end, error: null })
    })

    it('applies outputs before the transition of the same update', async () => {
      const job = sampleJob({ status: 'running' })
      await store.insertJob(job)
      const [result] = await store.apply([
        { jobId: job.id, outputs: [out(1)], transition: { from: LIVE, to: 'error', patch: { error: { name: 'E', message: 'm' } } } },
      ])
      expect(result).toEqual({ jobId: job.id, transitioned: true, inserted: [out(1)], times: { createdAt: job.createdAt, startedAt: null, endedAt: null } })
      expect(await store.getOutputs(job.id)).toEqual([out(1)])
      expect((await store.getJob(job.id))?.error).toEqual({ name: 'E', message: 'm' })
    })

    it('reports the times of a job whose transition applied, final after its end, also when it starts and ends in one batch', async () => {
      const job = sampleJob()
      const quick = sampleJob()
      for (const j of [job, quick]) await store.insertJob(j)
      const [started] = await store.apply([{ jobId: job.id, transition: { from: ['queued'], to: 'running', patch: { startedAt: 1_700_000_001_000 } } }])
      expect(started?.times).toEqual({ createdAt: job.createdAt, startedAt: 1_700_000_001_000, endedAt: null })
      const [ended, again, , quickEnd] = await store.apply([
        { jobId: job.id, transition: { from: LIVE, to: 'done', patch: { endedAt: 1_700_000_003_000 } } },
        { jobId: job.id, transition: { from: LIVE, to: 'lost', patch: { endedAt: 1 } } },
        { jobId: quick.id, transition: { from: ['queued'], to: 'running', patch: { startedAt: 1_700_000_001_500 } } },
        { jobId: quick.id, transition: { from: LIVE, to: 'error', patch: { endedAt: 1_700_000_002_500 } } },
      ])
      expect(ended?.times).toEqual({ createdAt: job.createdAt, startedAt: 1_700_000_001_000, endedAt: 1_700_000_003_000 })
      expect(again).toEqual({ jobId: job.id, transitioned: false, inserted: [] })
      expect(quickEnd?.times).toEqual({ createdAt: quick.createdAt, startedAt: 1_700_000_001_500, endedAt: 1_700_000_002_500 })
    })

    it('applies many updates of many jobs at once, in order', async () => {
      const jobs = Array.from({ length: 20 }, () => sampleJob())
      for (const job of jobs) await store.insertJob(job)
      const results = await store.apply(jobs.flatMap((job) => [
        { jobId: job.id, transition: { from: ['queued'] as const, to: 'running' as const } },
        { jobId: job.id, outputs: [out(1), out(2)] },
        { jobId: job.id, transition: { from: LIVE, to: 'done' as const, patch: { endedAt: 5 } } },
      ]))
      expect(results).toHaveLength(60)
      expect(results.every((r, i) => r.jobId === jobs[Math.floor(i / 3)]!.id)).toBe(true)
      expect(results.filter((r) => r.transitioned)).toHaveLength(40)
      for (const job of jobs) {
        expect((await store.getJob(job.id))?.status).toBe('done')
        expect(await store.getOutputs(job.id)).toEqual([out(1), out(2)])
      }
      expect(await store.apply([])).toEqual([])
    })

    it('finds jobs by status, oldest first, up to a limit', async () => {
      const older = sampleJob({ createdAt: 1000 })
      const running = sampleJob({ createdAt: 500, status: 'running' })
      const newer = sampleJob({ createdAt: 2000 })
      const done = sampleJob({ createdAt: 100, status: 'done' })
      for (const job of [newer, done, running, older]) await store.insertJob(job)
      expect((await store.findJobsByStatus(['queued'])).map((j) => j.id)).toEqual([older.id, newer.id])
      expect((await store.findJobsByStatus(['queued', 'running'])).map((j) => j.id)).toEqual([running.id, older.id, newer.id])
      expect((await store.findJobsByStatus(['queued', 'running'], 2)).map((j) => j.id)).toEqual([running.id, older.id])
      expect(await store.findJobsByStatus(['lost'])).toEqual([])
      expect(await store.findJobsByStatus(['running'])).toEqual([running])
    })

    it('keeps the account a job takes its turn as, apart from its owner, for recovery to send it again', async () => {
      const anonymous = sampleJob({ owner: 'anonymous', account: 'anonymous:127.0.0.2' })
      const keyed = sampleJob({ owner: 'acc-a', keyId: 'key-a', account: 'acc-a' })
      for (const job of [anonymous, keyed]) await store.insertJob(job)
      expect(await store.getJob(anonymous.id)).toEqual(anonymous)
      expect((await store.findJobsByStatus(['queued'])).map((j) => [j.id, j.account])).toEqual([[anonymous.id, 'anonymous:127.0.0.2'], [keyed.id, 'acc-a']])
      await store.apply([{ jobId: anonymous.id, transition: { from: ['queued'], to: 'running', patch: { startedAt: 5 } } }])
      expect((await store.getJob(anonymous.id))?.account).toBe('anonymous:127.0.0.2')
    })

    it('deletes jobs ended before a time with their outputs, and nothing else', async () => {
      const old = sampleJob({ status: 'running' })
      const oldError = sampleJob({ status: 'running' })
      const recent = sampleJob({ status: 'running' })
      // Live jobs are never deleted, whatever their times say.
      const queued = sampleJob({ createdAt: 1 })
      const running = sampleJob({ status: 'running', createdAt: 1, startedAt: 2, endedAt: 3 })
      for (const job of [old, oldError, recent, queued, running]) await store.insertJob(job)
      await store.apply([
        { jobId: old.id, outputs: [out(1), out(2)], transition: { from: LIVE, to: 'done', patch: { endedAt: 1_000 } } },
        { jobId: oldError.id, transition: { from: LIVE, to: 'error', patch: { endedAt: 1_500 } } },
        { jobId: recent.id, outputs: [out(1)], transition: { from: LIVE, to: 'done', patch: { endedAt: 2_000 } } },
        { jobId: running.id, outputs: [out(1)] },
      ])
      expect(await store.deleteEndedJobs(2_000, 100)).toEqual({ jobs: 2, outputs: 2 })
      expect(await store.getJob(old.id)).toBeNull()
      expect(await store.getOutputs(old.id)).toEqual([])
      expect(await store.getJob(oldError.id)).toBeNull()
      expect((await store.getJob(recent.id))?.status).toBe('done')
      expect(await store.getOutputs(recent.id)).toEqual([out(1)])
      expect(await store.getJob(queued.id)).toEqual(queued)
      expect((await store.getJob(running.id))?.status).toBe('running')
      expect(await store.getOutputs(running.id)).toEqual([out(1)])
      expect(await store.deleteEndedJobs(2_000, 100)).toEqual({ jobs: 0, outputs: 0 })
    })

    it('deletes in bounded batches, the longest ended first, a job only with the last of its outputs', async () => {
      const jobs = Array.from({ length: 5 }, () => sampleJob({ status: 'running' }))
      for (const job of jobs) await store.insertJob(job)
      // The first job has 5 outputs, the others 1 each; they ended in reverse order of creation.
      await store.apply(jobs.map((job, i) => ({
        jobId: job.id,
        outputs: i === 0 ? [1, 2, 3, 4, 5].map((seq) => out(seq)) : [out(1)],
        transition: { from: LIVE, to: 'done' as const, patch: { endedAt: 1_000 - i } },
      })))
      const left = async () => {
        const found = await Promise.all(jobs.map(async (j) => ({ job: await store.getJob(j.id), outputs: await store.getOutputs(j.id) })))
        // No output ever outlives its job.
        for (const f of found) if (!f.job) expect(f.outputs).toEqual([])
        return found.flatMap((f, i) => (f.job ? [i] : []))
      }
      const first = await store.deleteEndedJobs(10_000, 3)
      expect(first.outputs).toBe(3)
      expect(first.jobs).toBeLessThanOrEqual(3)
      // The two that ended first are gone; the two that ended last are not reached yet.
      expect(await left()).toEqual(expect.arrayContaining([0, 1]))
      expect(await left()).not.toEqual(expect.arrayContaining([3]))
      expect(await left()).not.toEqual(expect.arrayContaining([4]))
      const calls = [first]
      while (calls.at(-1)!.jobs === 3 || calls.at(-1)!.outputs === 3) {
        calls.push(await store.deleteEndedJobs(10_000, 3))
        expect(calls.at(-1)!.jobs).toBeLessThanOrEqual(3)
        expect(calls.at(-1)!.outputs).toBeLessThanOrEqual(3)
        await left()
        expect(calls.length).toBeLessThan(10)
      }
      expect(calls.reduce((sum, d) => sum + d.outputs, 0)).toBe(9)
      expect(calls.reduce((sum, d) => sum + d.jobs, 0)).toBe(5)
      expect(await left()).toEqual([])
    })

    it('stores a session and returns it as given; null for an unknown id', async () => {
      const session = sampleSession({ client: '::1', memoryMb: 128 })
      expect(await store.insertSession(session, 5)).toBe(true)
      expect(await store.getSession(session.id)).toEqual(session)
      expect(await store.getSession('nosuchsession')).toBeNull()
    })

    it('refuses a session past the client\'s limit of active ones; ended ones and other clients do not count', async () => {
      const mine = [sampleSession({ client: 'a' }), sampleSession({ client: 'a' })]
      for (const s of mine) expect(await store.insertSession(s, 2)).toBe(true)
      expect(await store.insertSession(sampleSession({ client: 'b' }), 2)).toBe(true)
      const third = sampleSession({ client: 'a' })
      expect(await store.insertSession(third, 2)).toBe(false)
      expect(await store.getSession(third.id)).toBeNull()
      await store.endSession(mine[0]!.id, 5, 'done')
      expect(await store.insertSession(third, 2)).toBe(true)
    })

    it('holds the limit of active sessions when creations race', async () => {
      const racing = Array.from({ length: 6 }, () => sampleSession({ client: 'racer' }))
      const created = await Promise.all(racing.map((s) => store.insertSession(s, 2)))
      expect(created.filter(Boolean)).toHaveLength(2)
      const stored = await Promise.all(racing.map((s) => store.getSession(s.id)))
      expect(stored.filter(Boolean)).toHaveLength(2)
    })

    it('numbers the cells of an active session and records when it was used; not once it ended', async () => {
      const session = sampleSession()
      await store.insertSession(session, 5)
      const uses = await Promise.all([store.useSession(session.id, 10), store.useSession(session.id, 10)])
      expect(uses.map((u) => u?.cells).sort()).toEqual([1, 2])
      expect((await store.useSession(session.id, 20))).toEqual({ ...session, cells: 3, lastUsedAt: 20 })
      expect(await store.endSession(session.id, 30, 'deleted')).toBe(true)
      expect(await store.endSession(session.id, 40, 'again')).toBe(false)
      expect(await store.useSession(session.id, 50)).toBeNull()
      expect(await store.useSession('nosuchsession', 50)).toBeNull()
      expect(await store.getSession(session.id)).toEqual({ ...session, cells: 3, lastUsedAt: 20, status: 'ended', endedAt: 30, endReason: 'deleted' })
    })

    it('finds active sessions idle or too old, oldest use first', async () => {
      const idle = sampleSession({ createdAt: 500, lastUsedAt: 500 })
      const old = sampleSession({ createdAt: 100, lastUsedAt: 900 })
      const fresh = sampleSession({ createdAt: 800, lastUsedAt: 900 })
      const over = sampleSession({ createdAt: 100, lastUsedAt: 100, status: 'ended', endedAt: 200, endReason: 'x' })
      for (const s of [idle, old, fresh, over]) await store.insertSession(s, 10)
      expect((await store.findExpiredSessions(600, 200)).map((s) => s.id)).toEqual([idle.id, old.id])
      expect((await store.findExpiredSessions(600, 200, 1)).map((s) => s.id)).toEqual([idle.id])
      expect(await store.findExpiredSessions(0, 0)).toEqual([])
    })

    it('deletes sessions ended before a time, the longest ended first, in bounded batches; never an active one', async () => {
      const ended = [300, 100, 200].map((endedAt) => sampleSession({ status: 'ended', endedAt, endReason: 'deleted' }))
      const late = sampleSession({ status: 'ended', endedAt: 5_000, endReason: 'idle' })
      const active = sampleSession({ createdAt: 0, lastUsedAt: 0 })
      for (const s of [...ended, late, active]) await store.insertSession(s, 10)
      expect(await store.deleteEndedSessions(1_000, 2)).toBe(2)
      expect(await store.getSession(ended[0]!.id)).toEqual(ended[0])
      expect(await store.deleteEndedSessions(1_000, 2)).toBe(1)
      expect(await store.deleteEndedSessions(1_000, 2)).toBe(0)
      for (const s of ended) expect(await store.getSession(s.id)).toBeNull()
      expect(await store.getSession(late.id)).toEqual(late)
      expect(await store.getSession(active.id)).toEqual(active)
    })

    it('keeps a job\'s session and lists a session\'s cells in order', async () => {
      const session = sampleSession()
      const second = sampleJob({ session: { id: session.id, cell: 2 } })
      const first = sampleJob({ session: { id: session.id, cell: 1 } })
      await store.insertJob(second)
      await store.insertJob(first)
      await store.insertJob(sampleJob())
      expect(await store.getJob(second.id)).toEqual(second)
      expect(await store.getSessionCells(session.id)).toEqual([first.id, second.id])
      expect(await store.getSessionCells('nosuchsession')).toEqual([])
    })

    it('saves a notebook as given, replaces it by id, and returns null for an unknown id', async () => {
      const cells = [
        { code: 'x = 41' },
        // Keys a document store might refuse, and an output a cell printed, come back as they were.
        { code: 'x + 1', outputs: [out(1)], result: { text: '{"a.b": 1, "$c": 2}', json: { 'a.b': 1, $c: 2 } }, error: null },
        { code: 'throw 1', error: { name: 'Error', message: 'boom', stack: 'Error: boom\n    at cell.js:1:1' } },
      ]
      const notebook = { id: 'nb_Abc-12345', title: 'Answer', cells, owner: 'anonymous', keyId: null, createdAt: 1_000, updatedAt: 1_000 }
      await store.saveNotebook(notebook)
      expect(await store.getNotebook(notebook.id)).toEqual(notebook)
      const saved = { ...notebook, title: 'Renamed', cells: [{ code: '1' }], updatedAt: 2_000 }
      await store.saveNotebook(saved)
      expect(await store.getNotebook(notebook.id)).toEqual(saved)
      expect(await store.getNotebook('nosuchnotebook')).toBeNull()
    })

    it('keeps jobs and outputs across close and reopen', async (ctx) => {
      if (!subject.reopen) ctx.skip(`${name} keeps nothing across reopen`)
      const job = sampleJob({ status: 'running' })
      await store.insertJob(job)
      await store.apply([{ jobId: job.id, outputs: [out(1), out(2)], transition: { from: LIVE, to: 'done', patch: { endedAt: 9 } } }])
      await store.close()
      store = subject.reopen!()
      await store.open()
      expect(await store.getJob(job.id)).toEqual({ ...job, status: 'done', endedAt: 9 })
      expect(await store.getOutputs(job.id, 1)).toEqual([out(2)])
      expect(await store.findJobsByStatus(['done'])).toHaveLength(1)
    })

    runPrincipalContract(() => store)
  })
}
