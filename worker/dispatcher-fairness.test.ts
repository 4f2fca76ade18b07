/**
 * Accounts taking turns in the dispatcher, with scripted sandboxes over the
 * real ROUTER (one sandbox, one slot, so the order of `run` frames is the
 * order the queue gave): a backlog of one account lets another's job in
 * after at most one more of its own, and a job whose sandbox died before
 * starting it goes first again, with its account's turn.
 *
 *   TestServer ──submit A1 A2 A3 A4 B1 B2──>  queue: A ⇄ B  ──run A1, A2, B1, A3, B2, A4──>  scripted sandbox (1 slot)
 *   TestServer ──submit A1──> run A1 (not started) ; ──submit B1 A2──> queue: B, A
 *                              sandbox dies ──> A1 queued again, first, A's turn ──run A1, B1, A2──>  its replacement
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ScriptedSandbox } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startScriptedDispatcher, type ScriptedDispatcher, type TestServer } from '../test/support/dispatcher.ts'

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }

let running: ScriptedDispatcher | undefined
afterEach(() => running?.close())

/** Runs `count` jobs to their end in the order the dispatcher sends them; returns that order. */
async function serve(sandbox: ScriptedSandbox, server: TestServer, count: number): Promise<string[]> {
  const order: string[] = []
  while (order.length < count) {
    const run = await sandbox.waitFor((m) => m.type === 'run' && !order.includes(m.job.jobId))
    const jobId = run.type === 'run' ? run.job.jobId : ''
    order.push(jobId)
    await sandbox.send({ type: 'started', jobId })
    await sandbox.send({ type: 'end', jobId, status: 'done', result: { text: 'ok' }, usage }, { type: 'credit', credits: 1 })
    expect((await server.waitForEnd(jobId)).end.status).toBe('done')
  }
  return order
}

describe('dispatcher: accounts take turns within a priority', () => {
  it('sends another account\'s job after at most one more of a backlogged account', async () => {
    const { launcher, server } = (running = await startScriptedDispatcher({ size: 1, slots: 1 }))
    const sandbox = await launcher.launched(1)
    const a = [1, 2, 3, 4].map((n) => testJob(`a${n}`, { account: 'acc-A' }))
    const b = [1, 2].map((n) => testJob(`b${n}`, { account: 'acc-B' }))
    await server.send(...[...a, ...b].map((job) => ({ type: 'submit' as const, job })))
    const order = await serve(sandbox, server, 6)
    // a1 went to the free slot at once; then A and B alternate until B has nothing left.
    expect(order).toEqual([a[0], a[1], b[0], a[2], b[1], a[3]].map((job) => job!.jobId))
  })

  it('keeps priority first: a higher job of the backlogged account goes before the other account', async () => {
    const { launcher, server } = (running = await startScriptedDispatcher({ size: 1, slots: 1 }))
    const sandbox = await launcher.launched(1)
    const [first, low, high] = [testJob('first', { account: 'acc-B' }), testJob('low', { account: 'acc-B' }), testJob('high', { account: 'acc-A', priority: 7 })]
    await server.send(...[first, low, high].map((job) => ({ type: 'submit' as const, job })))
    expect(await serve(sandbox, server, 3)).toEqual([first.jobId, high.jobId, low.jobId])
  })

  it('sends a job whose sandbox died before starting it first again, in its account\'s turn', async () => {
    const { launcher, server, metric } = (running = await startScriptedDispatcher({ size: 1, slots: 1 }))
    const dying = await launcher.launched(1)
    const a1 = testJob('a1', { account: 'acc-A' })
    await server.send({ type: 'submit', job: a1 })
    await dying.waitForRun(a1.jobId)
    const [b1, a2] = [testJob('b1', { account: 'acc-B' }), testJob('a2', { account: 'acc-A' })]
    await server.send({ type: 'submit', job: b1 }, { type: 'submit', job: a2 })
    // B's turn is next now (A's was a1's): the loss must give it back to A.
    await expect.poll(() => metric('cellgate_dispatcher_queue_depth', { priority: '0' })).toBe(2)
    dying.die()
    expect(await serve(await launcher.launched(2), server, 3)).toEqual([a1.jobId, b1.jobId, a2.jobId])
  })
})
