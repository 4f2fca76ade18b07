/**
 * Failure rules of the dispatcher, with scripted sandboxes (in-test DEALERs
 * launched through the Launcher interface) so each failure happens at an
 * exact moment. The test plays the server with a real DEALER.
 *
 *   TestServer DEALER ──submit──> dispatcher ──run──> scripted sandbox #1
 *                                            <─────── (dies before started)
 *                                 (requeued) ──run──> scripted sandbox #2 (replacement)
 *                                            <─────── (dies again)
 *                  <──end lost──
 *
 *   scripted sandbox: started, then silence ──(wallMs + graceMs)──> killed, job `lost`
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Dispatcher } from './dispatcher.ts'
import { ScriptedLauncher } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startTestDispatcher, TestServer } from '../test/support/dispatcher.ts'

let dispatcher: Dispatcher | undefined
let server: TestServer | undefined
afterEach(async () => {
  server?.close()
  await dispatcher?.close()
})

describe('dispatcher failure rules', () => {
  it('runs a job again once when its sandbox dies before `started`; a second loss ends it lost', async () => {
    const launcher = new ScriptedLauncher()
    dispatcher = await startTestDispatcher(launcher)
    server = await TestServer.connect(dispatcher.endpoints.server)
    const job = testJob('1 + 1')
    await server.send({ type: 'submit', job })

    const first = await launcher.launched(1)
    expect(await first.waitForRun()).toBe(job.jobId)
    first.die()

    const second = await launcher.launched(2)
    expect(await second.waitForRun()).toBe(job.jobId)
    second.die()

    const end = await server.waitForEnd(job.jobId)
    expect(end.end.status).toBe('lost')
    expect(end.end.error?.name).toBe('SandboxLost')
    expect(end.end.error?.message).toMatch(/died before this cell started, 2 times/)
    expect(server.about(job.jobId).map((m) => m.type)).toEqual(['end'])

    // The pool still serves: the third sandbox runs the next job.
    const next = testJob('2')
    await server.send({ type: 'submit', job: next })
    const third = await launcher.launched(3)
    await third.waitForRun(next.jobId)
    await third.send({ type: 'started', jobId: next.jobId })
    await third.send({ type: 'end', jobId: next.jobId, status: 'done', result: { text: '2' }, usage: { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 } })
    expect((await server.waitForEnd(next.jobId)).end).toMatchObject({ status: 'done', result: { text: '2' } })
  })

  it('a job re-run after its first sandbox died completes normally on the replacement', async () => {
    const launcher = new ScriptedLauncher()
    dispatcher = await startTestDispatcher(launcher)
    server = await TestServer.connect(dispatcher.endpoints.server)
    const job = testJob('"x"')
    await server.send({ type: 'submit', job })
    ;(await launcher.launched(1)).die()
    const second = await launcher.launched(2)
    await second.waitForRun(job.jobId)
    await second.send({ type: 'started', jobId: job.jobId }, { type: 'end', jobId: job.jobId, status: 'done', usage: { cpuMs: 0, wallMs: 0, heapBytes: 0, outputBytes: 0 } })
    await server.waitForEnd(job.jobId)
    expect(server.about(job.jobId).map((m) => [m.type, m.msgSeq])).toEqual([['started', 1], ['end', 2]])
    expect((await server.waitForStarted(job.jobId)).sandboxId).toBe(second.id)
  })

  it('kills a sandbox that does not end a job within wallMs + graceMs; the job ends lost', async () => {
    const launcher = new ScriptedLauncher()
    dispatcher = await startTestDispatcher(launcher, { graceMs: 100 })
    server = await TestServer.connect(dispatcher.endpoints.server)
    const job = testJob('for(;;){}', { limits: { wallMs: 50 } })
    await server.send({ type: 'submit', job })
    const stuck = await launcher.launched(1)
    await stuck.waitForRun(job.jobId)
    await stuck.send({ type: 'started', jobId: job.jobId })

    const exit = await stuck.handle.exited
    expect(exit.signal).toBe('SIGKILL')
    const end = await server.waitForEnd(job.jobId)
    expect(end.end.status).toBe('lost')
    expect(end.end.error?.message).toMatch(/^the sandbox process running this cell died \(job .* did not end within its wall time \+ 100 ms grace\)$/)
    // Replaced.
    await launcher.launched(2)
  })

  it('kills a sandbox that never connects, and launches another', async () => {
    const launcher = new ScriptedLauncher({ autoCredit: false })
    // The shortest start timeout the config allows.
    dispatcher = await startTestDispatcher(launcher, { pool: { startTimeoutMs: 1000 } })
    const silent = await launcher.launched(1)
    expect((await silent.handle.exited).signal).toBe('SIGKILL')
    const next = await launcher.launched(2)
    await next.send({ type: 'credit', credits: 1 })
    server = await TestServer.connect(dispatcher.endpoints.server)
    const job = testJob('1')
    await server.send({ type: 'submit', job })
    expect(await next.waitForRun()).toBe(job.jobId)
    expect(dispatcher.pool.lastError).toMatch(/did not connect within 1000 ms/)
  })
})
