/**
 * Recovery and the sweep in-process (real SQLite, recording link): no job
 * stays queued or running forever.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { inProcessServer, TEST_CALLER, type InProcessServer } from '../test/support/server.ts'

const POOL = { sandboxes: 1, connected: 1, ready: 1, freeSlots: 1, queued: 0 }
let s: InProcessServer

beforeEach(async () => {
  s = await inProcessServer({ server: { queueTimeoutMs: 60_000 }, dispatcher: { graceMs: 1_000 } })
})
afterEach(async () => {
  await s.close()
})

async function startedJob(bootId: string): Promise<string> {
  const job = await s.jobs.submit(TEST_CALLER, { code: 'x', timeoutMs: 2_000 })
  s.link.deliver([{ type: 'started', jobId: job.id, msgSeq: 1, bootId, sandboxId: 'sb' }])
  await s.jobs.idle()
  return job.id
}

describe('recoverAfterBoot', () => {
  it('re-submits queued jobs oldest first, as first sent (their accounts too), and loses running jobs of other boots only', async () => {
    const a = await s.jobs.submit(TEST_CALLER, { code: 'a' })
    const b = await s.jobs.submit({ ...TEST_CALLER, client: '127.0.0.2' }, { code: 'b' })
    const first = s.link.sent.slice()
    expect(first.map((m) => m.type === 'submit' && m.job.account)).toEqual(['anonymous:127.0.0.1', 'anonymous:127.0.0.2'])
    const old = await startedJob('boot-1')
    const current = await startedJob('boot-2')
    s.link.sent.length = 0
    s.link.deliver([{ type: 'welcome', bootId: 'boot-2', pool: POOL }])
    await s.jobs.idle()
    expect(s.link.sent.map((m) => m.type === 'submit' && m.job.jobId)).toEqual([a.id, b.id])
    expect(s.link.sent).toEqual(first)
    expect((await s.store.getJob(old))).toMatchObject({ status: 'lost', error: { name: 'DispatcherLost' } })
    expect((await s.store.getJob(current))?.status).toBe('running')
  })

  it('runs on the first welcome and on each new dispatcher boot, not on repeated welcomes', async () => {
    const job = await s.jobs.submit(TEST_CALLER, { code: 'a' })
    const submitsOf = () => s.link.sent.filter((m) => m.type === 'submit' && m.job.jobId === job.id).length
    for (const bootId of ['boot-1', 'boot-1', 'boot-2']) {
      s.link.deliver([{ type: 'welcome', bootId, pool: POOL }])
      await s.jobs.idle()
    }
    expect(submitsOf()).toBe(1 + 2)
  })
})

describe('checkSessions after a new boot', () => {
  it('asks the dispatcher about active sessions whose cells all ended, and ends those it answers for', async () => {
    const [idle, busy, empty] = [await s.sessions.create(TEST_CALLER), await s.sessions.create(TEST_CALLER), await s.sessions.create(TEST_CALLER)]
    const done = await s.jobs.submit(TEST_CALLER, { code: 'x = 1', session: idle.id })
    s.link.deliver([
      { type: 'started', jobId: done.id, msgSeq: 1, bootId: 'boot-1', sandboxId: 'sb' },
      { type: 'end', jobId: done.id, msgSeq: 2, end: { status: 'done', usage: { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 } } },
    ])
    const running = await s.jobs.submit(TEST_CALLER, { code: 'y = 1', session: busy.id })
    s.link.deliver([{ type: 'started', jobId: running.id, msgSeq: 1, bootId: 'boot-2', sandboxId: 'sb' }])
    await s.jobs.idle()
    s.link.sent.length = 0

    s.link.deliver([{ type: 'welcome', bootId: 'boot-2', pool: POOL }])
    await s.jobs.idle()
    expect(s.link.sent.filter((m) => m.type === 'checkSessions')).toEqual([{ type: 'checkSessions', sessions: [idle.id] }])

    s.link.deliver([{ type: 'sessionEnded', session: idle.id, reason: 'the sandbox holding this session\'s context went away' }])
    await s.jobs.idle()
    expect(await s.store.getSession(idle.id)).toMatchObject({ status: 'ended', endReason: 'the sandbox holding this session\'s context went away' })
    expect((await s.store.getSession(busy.id))?.status).toBe('active')
    expect((await s.store.getSession(empty.id))?.status).toBe('active')
  })
})

describe('sweepStaleJobs', () => {
  it('ends lost what waited too long in the queue or ran far past its limit, and cancels it', async () => {
    const queued = await s.jobs.submit(TEST_CALLER, { code: 'q' })
    const running = await startedJob('boot-1')
    const created = (await s.store.getJob(queued.id))!.createdAt
    const started = (await s.store.getJob(running))!.startedAt!

    expect(await s.jobs.sweepStale(created + 1_000)).toBe(0)
    // running: wallMs 2000 + 2 × graceMs 1000
    expect(await s.jobs.sweepStale(started + 4_001)).toBe(1)
    expect(await s.store.getJob(running)).toMatchObject({ status: 'lost', error: { name: 'RunTimeout' } })
    expect((await s.store.getJob(queued.id))?.status).toBe('queued')

    expect(await s.jobs.sweepStale(created + 60_001)).toBe(1)
    expect(await s.store.getJob(queued.id)).toMatchObject({ status: 'lost', error: { name: 'QueueTimeout' } })
    expect(s.link.sent).toContainEqual({ type: 'cancel', jobId: queued.id })
    expect(s.link.sent).toContainEqual({ type: 'cancel', jobId: running })
    expect(await s.jobs.waitForEnd(queued.id, 60_000)).toMatchObject({ status: 'lost' })
  })
})
