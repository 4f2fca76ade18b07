/**
 * Retention through the in-process server (real SQLite, recording link),
 * its clock injected: a cell swept after its retention answers 404 with a
 * message saying so, on every route that reads it; cells that ended since,
 * and cells still queued or running, stay whatever their age. The sweep
 * deletes in batches and lets other work run between them.
 *
 *   cell ends (endedAt) ... + retention.jobsMs ... sweep(now) --> deleteEndedJobs(now - jobsMs, batch)…
 *                                                   GET /cells/:id --> 404 "…ended more than 30 days ago…"
 */
import { afterEach, describe, expect, it } from 'vitest'
import { capturingLogger } from '../test/support/logs.ts'
import { sampleJob, sampleSession } from '../test/support/contracts/store.ts'
import { inProcessServer, TEST_CALLER, type InProcessServer } from '../test/support/server.ts'
import { inWords } from './durations.ts'
import { RETENTION_BATCH, sweepRetention } from './retention.ts'
import { LIVE_STATUSES, type Store } from './store/port.ts'

const DAY = 24 * 60 * 60_000
let s: InProcessServer
afterEach(async () => {
  await s?.close()
})

async function endedCell(code: string): Promise<string> {
  const job = await s.jobs.submit(TEST_CALLER, { code })
  s.link.deliver([
    { type: 'started', jobId: job.id, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' },
    { type: 'output', jobId: job.id, msgSeq: 2, output: { seq: 1, stream: 'stdout', mime: 'text/plain', data: 'hi\n' } },
    { type: 'end', jobId: job.id, msgSeq: 3, end: { status: 'done', result: { text: '1' }, usage: { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 3 } } },
  ])
  await s.jobs.idle()
  return job.id
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } }
  return { status: res.status, ...body.error }
}

describe('retention', () => {
  it('deletes a cell its retention after it ended, which then answers 404 saying why; newer and live cells stay', async () => {
    s = await inProcessServer({ retention: { jobsMs: 30 * DAY } })
    const old = await endedCell('old')
    const ended = (await s.store.getJob(old))!.endedAt!
    const queued = await s.jobs.submit(TEST_CALLER, { code: 'waits' })
    const { logger, records } = capturingLogger()

    // A day before its time, nothing goes.
    expect(await sweepRetention({ store: s.store, config: s.config, logger }, ended + 29 * DAY)).toEqual({ jobs: 0, outputs: 0, sessions: 0 })
    expect((await s.app.request(`/api/v1/cells/${old}`)).status).toBe(200)
    const recent = await endedCell('recent')
    // As if it had ended two days after the old one.
    await s.store.apply([{ jobId: recent, transition: { from: ['done'], to: 'done', patch: { endedAt: ended + 2 * DAY } } }])

    expect(await sweepRetention({ store: s.store, config: s.config, logger }, ended + 30 * DAY + 1)).toEqual({ jobs: 1, outputs: 1, sessions: 0 })
    for (const path of [`/api/v1/cells/${old}`, `/api/v1/cells/${old}/events`]) {
      const gone = await errorOf(await s.app.request(path))
      expect(gone).toMatchObject({ status: 404, code: 'not_found' })
      expect(gone.message).toContain(`ended more than ${inWords(30 * DAY)} ago and was deleted`)
    }
    expect((await errorOf(await s.app.request(`/api/v1/cells/${old}/cancel`, { method: 'POST' }))).status).toBe(404)
    expect(await s.store.getOutputs(old)).toEqual([])
    expect(records.find((r) => r.msg?.startsWith('retention deleted 1 jobs'))).toMatchObject({ jobs: 1, outputs: 1, sessions: 0 })

    const kept = (await (await s.app.request(`/api/v1/cells/${recent}`)).json()) as { status: string; outputs: unknown[] }
    expect(kept).toMatchObject({ status: 'done', outputs: [{ seq: 1, data: 'hi\n' }] })
    expect((await s.store.getJob(queued.id))?.status).toBe('queued')
  })

  it('deletes a session record its retention after the session ended; an active one stays however old', async () => {
    s = await inProcessServer({ retention: { jobsMs: 30 * DAY } })
    const ended = sampleSession({ createdAt: 0, lastUsedAt: 0, status: 'ended', endedAt: DAY, endReason: 'deleted' })
    const active = sampleSession({ createdAt: 0, lastUsedAt: 0 })
    for (const session of [ended, active]) await s.store.insertSession(session, 10)
    const sweep = (now: number) => sweepRetention({ store: s.store, config: s.config, logger: capturingLogger().logger }, now)

    expect(await sweep(31 * DAY - 1)).toEqual({ jobs: 0, outputs: 0, sessions: 0 })
    expect(await sweep(31 * DAY + 1)).toEqual({ jobs: 0, outputs: 0, sessions: 1 })
    expect(await s.store.getSession(ended.id)).toBeNull()
    expect(await s.store.getSession(active.id)).toEqual(active)
  })

  it('deletes a backlog in batches of RETENTION_BATCH, letting the event loop run between them', async () => {
    s = await inProcessServer()
    const backlog = 2 * RETENTION_BATCH + 10
    const jobs = Array.from({ length: backlog }, (_, i) => sampleJob({ status: 'running', createdAt: i }))
    for (const job of jobs) await s.store.insertJob(job)
    await s.store.apply(jobs.map((job, i) => ({ jobId: job.id, transition: { from: LIVE_STATUSES, to: 'done' as const, patch: { endedAt: i } } })))

    // What happens in order: each store call, and each turn of the event loop another task got.
    const events: string[] = []
    const store: Pick<Store, 'deleteEndedJobs' | 'deleteEndedSessions'> = {
      deleteEndedJobs: async (endedBefore, limit) => {
        events.push(`delete ${limit}`)
        return s.store.deleteEndedJobs(endedBefore, limit)
      },
      deleteEndedSessions: (endedBefore, limit) => s.store.deleteEndedSessions(endedBefore, limit),
    }
    let ticking = true
    const tick = () => {
      events.push('tick')
      if (ticking) setImmediate(tick)
    }
    setImmediate(tick)
    const deleted = await sweepRetention({ store, config: s.config, logger: capturingLogger().logger }, s.config.retention.jobsMs + backlog)
    ticking = false

    expect(deleted).toEqual({ jobs: backlog, outputs: 0, sessions: 0 })
    const calls = events.flatMap((e, i) => (e.startsWith('delete') ? [i] : []))
    expect(calls).toHaveLength(3)
    expect(events.filter((e) => e.startsWith('delete')).every((e) => e === `delete ${RETENTION_BATCH}`)).toBe(true)
    // Between one batch and the next, another task ran.
    for (let i = 1; i < calls.length; i++) expect(events.slice(calls[i - 1]! + 1, calls[i]!)).toContain('tick')
    expect(await s.store.findJobsByStatus(['done'])).toEqual([])
  })
})
