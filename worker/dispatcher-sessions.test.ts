/**
 * Sessions in the dispatcher, with real sandbox processes (two sandboxes,
 * two slots each) and the test playing the server with a real DEALER; the
 * order of a session's cells also with a scripted sandbox, which ends each
 * cell exactly when the test says.
 *
 *   TestServer DEALER                  dispatcher                           sandboxes
 *     submit {job, session S, cell 1} ─> pin S to the least loaded ── run ──> sandbox A (S's context)
 *     submit {…, S, cell 2}, {…, cell 3} ─> wait behind cell 1 ──── run ──> A, after cell 1 ended
 *     endSession {S} ──────────────────> waiting cells: cancelled ── endSession ──> A drops S
 *                           (A dies) <── sessionEnded {S, reason}; S's running cell ends lost
 *     submit {…, S, cell n} ───────────> lost, SessionEnded (never a fresh context)
 *
 *   scripted:  submit S1, S2, S3, J ──> run S1, run J (S2, S3 wait though credits are free)
 *              end S1 ──> run S2 · end S2 ──> run S3
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DispatcherMessage, JobSpec, MessageOf, ToSandboxMessage } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import type { Dispatcher } from './dispatcher.ts'
import { LocalLauncher } from './launchers/local.ts'
import { ScriptedLauncher } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startTestDispatcher, TestServer } from '../test/support/dispatcher.ts'

type SessionEnded = MessageOf<DispatcherMessage, 'sessionEnded'>

let launcher: LocalLauncher
let dispatcher: Dispatcher
let server: TestServer

beforeAll(async () => {
  launcher = new LocalLauncher({ log: silentLogger() })
  dispatcher = await startTestDispatcher(launcher, { pool: { size: 2, slots: 2 } })
  server = await TestServer.connect(dispatcher.endpoints.server, { serverId: 'srv-sessions' })
  // Both sandboxes up before any session is placed, or the first would take them all.
  await vi.waitFor(() => expect(dispatcher.state().connected).toBe(2), { timeout: 30_000, interval: 20 })
})
afterAll(async () => {
  server?.close()
  await dispatcher?.close()
  await launcher?.close()
})

let sessionCounter = 0
function session(): { id: string; cell: (code: string, limits?: Partial<JobSpec['limits']>) => JobSpec } {
  const id = `sess-${process.pid}-${++sessionCounter}`
  let n = 0
  return { id, cell: (code, limits = {}) => testJob(code, { session: { id, cell: ++n }, limits }) }
}

async function run(job: JobSpec) {
  await server.send({ type: 'submit', job })
  return (await server.waitForEnd(job.jobId)).end
}

async function sandboxOf(job: JobSpec): Promise<string> {
  return (await server.waitForStarted(job.jobId)).sandboxId
}

describe('dispatcher sessions', () => {
  it('runs every cell of a session in the sandbox of its first, keeping its context', async () => {
    const s = session()
    const first = s.cell('x = 41')
    expect(await run(first)).toMatchObject({ status: 'done', result: { text: '41' } })
    const pinned = await sandboxOf(first)
    for (let i = 0; i < 4; i++) {
      const job = s.cell('x = x + 1')
      expect((await run(job)).result?.text).toBe(String(42 + i))
      expect(await sandboxOf(job)).toBe(pinned)
    }
  })

  it('spreads new sessions over the sandboxes', async () => {
    const firsts = [session(), session(), session(), session()].map((s) => s.cell('1'))
    for (const job of firsts) await run(job)
    const sandboxes = new Set(await Promise.all(firsts.map(sandboxOf)))
    expect(sandboxes.size).toBe(2)
  })

  it('runs the cells of one session one at a time, in the order submitted, in one context', async () => {
    const s = session()
    const jobs = [s.cell('log = []; await null; log.push(1)'), s.cell('log.push(2)'), s.cell('await null; log.push(3)'), s.cell('log.join()')]
    await server.send(...jobs.map((job) => ({ type: 'submit' as const, job })))
    const last = await server.waitForEnd(jobs[3]!.jobId)
    expect(last.end.result?.text).toBe("'1,2,3'")
    const events = server.received.filter((m) => (m.type === 'started' || m.type === 'end') && jobs.some((j) => j.jobId === m.jobId))
    const order = events.map((m) => `${m.type}:${jobs.findIndex((j) => 'jobId' in m && j.jobId === m.jobId)}`)
    expect(order).toEqual(['started:0', 'end:0', 'started:1', 'end:1', 'started:2', 'end:2', 'started:3', 'end:3'])
  })

  it('endSession cancels the waiting cells and drops the context in the sandbox', async () => {
    const s = session()
    await run(s.cell('kept = 1'))
    const running = s.cell('await new Promise((r) => setTimeout(r, 60_000))', { wallMs: 30_000 })
    const waiting = s.cell('kept')
    await server.send({ type: 'submit', job: running }, { type: 'submit', job: waiting })
    await server.waitForStarted(running.jobId)
    await server.send({ type: 'endSession', session: s.id })
    expect((await server.waitForEnd(waiting.jobId)).end).toMatchObject({ status: 'cancelled', error: { name: 'SessionEnded' } })
    expect((await server.waitForEnd(running.jobId)).end.status).toBe('cancelled')
    // A cell that still arrives for it ends lost rather than running in an empty context.
    const late = s.cell('kept')
    expect(await run(late)).toMatchObject({ status: 'lost', error: { name: 'SessionEnded', message: 'the session was ended' } })
  })

  it('ends a later cell of a session it never held lost, and says the session ended', async () => {
    const job = testJob('1', { session: { id: `sess-${process.pid}-unknown`, cell: 3 } })
    expect(await run(job)).toMatchObject({ status: 'lost', error: { name: 'SessionEnded' } })
    const ended = (await server.waitFor((m) => m.type === 'sessionEnded' && m.session === job.session!.id)) as SessionEnded
    expect(ended.reason).toMatch(/dispatcher restarted/)
  })

  it('when the sandbox holding a session dies: its running cell and the session end, later cells end lost', async () => {
    const s = session()
    await run(s.cell('kept = 1'))
    const spinning = s.cell("console.log('spinning'); while (true) {}", { wallMs: 30_000, cpuMs: 30_000 })
    await server.send({ type: 'submit', job: spinning })
    const { sandboxId } = await server.waitForStarted(spinning.jobId)
    const ended = server.waitFor((m) => m.type === 'sessionEnded' && m.session === s.id) as Promise<SessionEnded>
    process.kill(dispatcher.pool.get(sandboxId)!.handle.pid!, 'SIGKILL')

    const lost = await server.waitForEnd(spinning.jobId)
    expect(lost.end).toMatchObject({ status: 'lost', error: { name: 'SandboxLost' } })
    expect(lost.end.error?.message).toMatch(/sandbox holding this session died/)
    expect((await ended).reason).toMatch(/sandbox holding this session died/)
    expect(await run(s.cell('kept'))).toMatchObject({ status: 'lost', error: { name: 'SessionEnded' } })

    // Sessions elsewhere, and the pool, still serve.
    const fresh = session()
    await run(fresh.cell('y = 2'))
    expect((await run(fresh.cell('y * 21'))).result?.text).toBe('42')
  })
})

describe('dispatcher sessions, scripted sandbox', () => {
  const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }
  const runs = (messages: readonly ToSandboxMessage[]) => messages.flatMap((m) => (m.type === 'run' ? [m.job.jobId] : []))

  it('sends a session its next cell only once the sandbox ended the one before, credits or not', async () => {
    const launcher = new ScriptedLauncher()
    const scripted = await startTestDispatcher(launcher, { pool: { size: 1, slots: 4 } })
    const client = await TestServer.connect(scripted.endpoints.server, { serverId: 'srv-scripted' })
    try {
      const sandbox = await launcher.launched(1)
      const s = session()
      const [c1, c2, c3] = [s.cell('1'), s.cell('2'), s.cell('3')]
      // A one-off job after them: its run leaves after anything the dispatcher would send for the session now.
      const barrier = () => testJob('"barrier"')
      const j1 = barrier()
      await client.send(...[c1, c2, c3, j1].map((job) => ({ type: 'submit' as const, job })))
      await sandbox.waitForRun(j1.jobId)
      expect(runs(sandbox.received)).toEqual([c1.jobId, j1.jobId])

      await sandbox.send({ type: 'started', jobId: c1.jobId }, { type: 'end', jobId: c1.jobId, status: 'done', usage }, { type: 'credit', credits: 1 })
      await sandbox.waitForRun(c2.jobId)
      const j2 = barrier()
      await client.send({ type: 'submit', job: j2 })
      await sandbox.waitForRun(j2.jobId)
      expect(runs(sandbox.received)).toEqual([c1.jobId, j1.jobId, c2.jobId, j2.jobId])

      await sandbox.send({ type: 'started', jobId: c2.jobId }, { type: 'end', jobId: c2.jobId, status: 'done', usage }, { type: 'credit', credits: 1 })
      await sandbox.waitForRun(c3.jobId)
      expect(runs(sandbox.received)).toEqual([c1.jobId, j1.jobId, c2.jobId, j2.jobId, c3.jobId])
    } finally {
      client.close()
      await scripted.close()
    }
  })
  it('answers checkSessions with sessionEnded for the sessions no sandbox holds only, with the reason it knows', async () => {
    const launcher = new ScriptedLauncher()
    const scripted = await startTestDispatcher(launcher, { pool: { size: 1, slots: 2 } })
    const client = await TestServer.connect(scripted.endpoints.server, { serverId: 'srv-check' })
    try {
      const sandbox = await launcher.launched(1)
      const [held, ended, never] = [session(), session(), session()]
      const cells = [held.cell('1'), ended.cell('1')]
      await client.send(...cells.map((job) => ({ type: 'submit' as const, job })))
      for (const cell of cells) {
        await sandbox.waitForRun(cell.jobId)
        await sandbox.send({ type: 'started', jobId: cell.jobId }, { type: 'end', jobId: cell.jobId, status: 'done', usage }, { type: 'credit', credits: 1 })
        await client.waitForEnd(cell.jobId)
      }
      // The sandbox lost `ended`'s context while the server was not listening: the server missed this.
      await sandbox.send({ type: 'sessionEnded', session: ended.id, reason: 'the cell ran out of memory' })
      await client.waitFor((m) => m.type === 'sessionEnded' && m.session === ended.id)
      const from = client.received.length

      await client.send({ type: 'checkSessions', sessions: [held.id, ended.id, never.id] })
      const answer = (await client.waitFor((m) => m.type === 'sessionEnded' && m.session === never.id, from)) as SessionEnded
      expect(answer.reason).toMatch(/the sandbox holding this session's context went away/)
      const answered = client.received.slice(from).filter((m): m is SessionEnded => m.type === 'sessionEnded')
      expect(answered).toEqual([{ type: 'sessionEnded', session: ended.id, reason: 'the cell ran out of memory' }, answer])
      // The held session still runs its cells.
      const next = held.cell('2')
      await client.send({ type: 'submit', job: next })
      await sandbox.waitForRun(next.jobId)
    } finally {
      client.close()
      await scripted.close()
    }
  })
})
