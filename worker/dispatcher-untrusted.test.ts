/**
 * The sandbox side is untrusted: what the dispatcher does with sandbox
 * frames that are invalid, from a peer it never launched, about jobs the
 * sender does not hold, with inflated credits, or overrunning the output
 * limit. Scripted sandboxes send exactly those frames over the real ROUTER;
 * the test plays the server with a real DEALER.
 *
 *   intruder DEALER (id never launched) ──credit/end──> ROUTER: dropped, counted (messages_dropped_total{reason})
 *   scripted sandbox A ──{type:'nope'}──>               ROUTER: dropped, counted; A keeps serving
 *   scripted sandbox A ──output {job A1, data: 1}──>    end A1 error SandboxProtocolError to server at once,
 *                      <──cancel {A1}──                  A2 on the same sandbox ends done, A serves the next job
 *   scripted sandbox A ──"not json"──>                  A retired (broken), its running job lost, replaced
 *   scripted sandbox A ──16 invalid frames in a row──>  A retired (broken), replaced
 *   scripted sandbox A ──end {job of B}──>              ROUTER: dropped (not-assigned)
 *   scripted sandbox A ──credit 64 (slots 1)──>         at most one `run` outstanding
 *   scripted sandbox A ──output × n > outputBytes──>    end error OutputLimitExceeded to server,
 *                      <──cancel {jobId}──               later outputs dropped
 *   scripted sandbox A ──outputs > limits.outputs──>    the same, counted as the sandbox counts them
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Dealer } from 'zeromq'
import { OUTPUT_OVERHEAD_BYTES, outputCost, type Limits } from '../protocol/index.ts'
import type { ScriptedSandbox } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startScriptedDispatcher, type ScriptedDispatcher, type TestServer } from '../test/support/dispatcher.ts'
import { MAX_REFUSED_IN_A_ROW } from './sandbox-link.ts'

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }

let running: ScriptedDispatcher | undefined
afterEach(() => running?.close())

async function setup(pool: { size?: number; slots?: number } = {}) {
  const started = (running = await startScriptedDispatcher(pool))
  const dropped = (reason: string) => started.metric('cellgate_dispatcher_messages_dropped_total', { reason })
  return { ...started, dropped }
}

/** The sandbox (still serving, or launched to replace a retired one) runs the next job to its end. */
async function runNext(sandbox: ScriptedSandbox, server: TestServer): Promise<void> {
  const next = testJob('next')
  await server.send({ type: 'submit', job: next })
  await sandbox.waitForRun(next.jobId)
  await sandbox.send({ type: 'started', jobId: next.jobId })
  await finish(sandbox, next.jobId)
  expect((await server.waitForEnd(next.jobId)).end.status).toBe('done')
}

async function finish(sandbox: ScriptedSandbox, jobId: string): Promise<void> {
  await sandbox.send({ type: 'end', jobId, status: 'done', result: { text: 'ok' }, usage }, { type: 'credit', credits: 1 })
}

describe('dispatcher with untrusted sandboxes', () => {
  it('ignores a DEALER with a routing id it did not launch', async () => {
    const { launcher, server, dispatcher, dropped } = await setup()
    const sandbox = await launcher.launched(1)
    const intruder = new Dealer({ routingId: 'sb-not-launched', linger: 0 })
    intruder.connect(dispatcher.endpoints.sandbox)
    try {
      await intruder.send([JSON.stringify({ type: 'credit', credits: 5 })])
      const job = testJob('1')
      await intruder.send([JSON.stringify({ type: 'end', jobId: job.jobId, status: 'done', usage })])
      await server.send({ type: 'submit', job })
      // The job goes to the launched sandbox, and only its end counts.
      await sandbox.waitForRun(job.jobId)
      await sandbox.send({ type: 'started', jobId: job.jobId })
      await finish(sandbox, job.jobId)
      expect((await server.waitForEnd(job.jobId)).end.result).toEqual({ text: 'ok' })
      // The intruder's connection is not ordered with the server's: wait until both of its frames were seen.
      await expect.poll(() => dropped('unknown-sandbox')).toBe(2)
      expect(dispatcher.pool.state(0).sandboxes).toBe(1)
    } finally {
      intruder.close()
    }
  })

  it('ends at once, with a clear error, the job an invalid frame is about; the sandbox keeps its other job and serves the next', async () => {
    const { launcher, server, dropped } = await setup({ size: 1, slots: 2 })
    const a = await launcher.launched(1)
    const [refused, neighbour] = [testJob('1'), testJob('2')]
    await server.send(...[refused, neighbour].map((job) => ({ type: 'submit' as const, job })))
    await a.waitForRun(refused.jobId)
    await a.waitForRun(neighbour.jobId)
    await a.send({ type: 'started', jobId: refused.jobId }, { type: 'started', jobId: neighbour.jobId })
    await server.waitForStarted(neighbour.jobId)

    await a.send({ type: 'output', jobId: refused.jobId, output: { stream: 'stdout', mime: 'text/plain', data: 1 } })
    const end = await server.waitForEnd(refused.jobId)
    expect(end.end.status).toBe('error')
    expect(end.end.error?.name).toBe('SandboxProtocolError')
    expect(end.end.error?.message).toMatch(/^the sandbox sent a message about this cell that the dispatcher refused \(invalid message: output\.data: .+\); the cell was stopped$/)
    await a.waitFor((m) => m.type === 'cancel' && m.jobId === refused.jobId)
    // More of the same fault about the ended job is dropped; the neighbour's output and end go through.
    await a.send({ type: 'output', jobId: refused.jobId, output: { stream: 'stdout', mime: 'text/plain', data: 2 } })
    await a.send({ type: 'output', jobId: neighbour.jobId, output: { stream: 'stdout', mime: 'text/plain', data: 'fine' } })
    await finish(a, neighbour.jobId)
    expect((await server.waitForEnd(neighbour.jobId)).end).toMatchObject({ status: 'done', result: { text: 'ok' } })
    expect(server.about(neighbour.jobId).map((m) => m.type)).toEqual(['started', 'output', 'end'])

    // The sandbox ends the cancelled job as a real one does; its end is not relayed, and it serves the next job.
    await a.send({ type: 'end', jobId: refused.jobId, status: 'cancelled', usage }, { type: 'credit', credits: 1 })
    await runNext(a, server)
    expect(server.about(refused.jobId).map((m) => m.type)).toEqual(['started', 'end'])
    expect(launcher.sandboxes).toHaveLength(1)
    expect(await dropped('invalid')).toBe(2)
  })

  it('ends the cell of a session an invalid frame names', async () => {
    const { launcher, server } = await setup()
    const a = await launcher.launched(1)
    const cell = testJob('1', { session: { id: `sess-${process.pid}-untrusted`, cell: 1 } })
    await server.send({ type: 'submit', job: cell })
    await a.waitForRun(cell.jobId)
    await a.send({ type: 'started', jobId: cell.jobId }, { type: 'sessionEnded', session: cell.session!.id, reason: '' })
    const end = await server.waitForEnd(cell.jobId)
    expect(end.end.error).toMatchObject({ name: 'SandboxProtocolError', message: expect.stringMatching(/invalid message: reason: /) })
    await a.waitFor((m) => m.type === 'cancel' && m.jobId === cell.jobId)
    expect(launcher.sandboxes).toHaveLength(1)
  })

  it('drops invalid frames about no job it holds and messages about jobs the sender does not hold, and keeps serving', async () => {
    const { launcher, server, dropped } = await setup({ size: 2, slots: 1 })
    const [a, b] = [await launcher.launched(1), await launcher.launched(2)]
    const jobs = [testJob('1'), testJob('2')]
    await server.send(...jobs.map((job) => ({ type: 'submit' as const, job })))
    // Each sandbox has one slot: one job each, in some order.
    const jobOf = new Map<ScriptedSandbox, string>([[a, await a.waitForRun()], [b, await b.waitForRun()]])
    const jobA = jobOf.get(a)!
    const jobB = jobOf.get(b)!

    await a.send({ type: 'nope' }, { type: 'credit', credits: 1000 }, { type: 'output', jobId: 'job-unknown-2', output: { stream: 'stdout', mime: 'text/plain', data: 1 } })
    await a.send({ type: 'started', jobId: jobB }, { type: 'end', jobId: jobB, status: 'done', usage }, { type: 'output', jobId: 'job-unknown-1', output: { stream: 'stdout', mime: 'text/plain', data: 'x' } })
    await a.send({ type: 'output', jobId: jobA, output: { stream: 'stdout', mime: 'text/plain', data: 'before started' } })

    // B's job is still B's: it ends only when B says so.
    await b.send({ type: 'started', jobId: jobB })
    await finish(b, jobB)
    await a.send({ type: 'started', jobId: jobA })
    await finish(a, jobA)
    await server.waitForEnd(jobA)
    await server.waitForEnd(jobB)
    expect(server.about(jobB).map((m) => m.type)).toEqual(['started', 'end'])
    expect((await server.waitForStarted(jobB)).sandboxId).toBe(b.id)
    expect(server.about(jobA).map((m) => m.type)).toEqual(['started', 'end'])
    expect([await dropped('invalid'), await dropped('not-assigned'), await dropped('out-of-turn')]).toEqual([3, 3, 1])
    expect(launcher.sandboxes).toHaveLength(2)
  })

  it('retires a sandbox that sends a frame that is not JSON, as a dead one: its running job ends lost, a new sandbox serves the next', async () => {
    const { launcher, server } = await setup()
    const a = await launcher.launched(1)
    const job = testJob('1')
    await server.send({ type: 'submit', job })
    await a.waitForRun(job.jobId)
    await a.send({ type: 'started', jobId: job.jobId })
    await server.waitForStarted(job.jobId)
    await a.send('not json')
    const end = await server.waitForEnd(job.jobId)
    expect(end.end).toMatchObject({ status: 'lost', error: { name: 'SandboxLost', message: expect.stringMatching(/broken: it sent a frame that is not JSON/) } })
    await runNext(await launcher.launched(2), server)
  })

  it(`retires a sandbox that sends ${MAX_REFUSED_IN_A_ROW} invalid frames in a row, not one whose invalid frames have valid ones between`, async () => {
    const { launcher, server } = await setup()
    const a = await launcher.launched(1)
    const stray = Array.from({ length: MAX_REFUSED_IN_A_ROW - 1 }, () => ({ type: 'nope' }))
    await a.send(...stray, { type: 'credit', credits: 1 }, ...stray)
    const job = testJob('1')
    await server.send({ type: 'submit', job })
    await a.waitForRun(job.jobId)
    await a.send({ type: 'started', jobId: job.jobId })
    await finish(a, job.jobId)
    await server.waitForEnd(job.jobId)
    expect(launcher.sandboxes).toHaveLength(1)

    await a.send(...stray, { type: 'nope' })
    await runNext(await launcher.launched(2), server)
  })

  it('never has more jobs on a sandbox than its slots, whatever credits it claims', async () => {
    const { launcher, server } = await setup({ size: 1, slots: 1 })
    const sandbox = await launcher.launched(1)
    await sandbox.send({ type: 'credit', credits: 64 }, { type: 'credit', credits: 64 })
    const jobs = [testJob('1'), testJob('2'), testJob('3')]
    await server.send(...jobs.map((job) => ({ type: 'submit' as const, job })))
    for (const job of jobs) {
      await sandbox.waitForRun(job.jobId)
      // Only the job it holds was sent: the next one waits for this one's end.
      expect(sandbox.received.filter((m) => m.type === 'run').length).toBe(jobs.indexOf(job) + 1)
      await sandbox.send({ type: 'started', jobId: job.jobId })
      await finish(sandbox, job.jobId)
      await server.waitForEnd(job.jobId)
    }
  })

  // Both limits cut the same output: the third. Each output costs OUTPUT_OVERHEAD_BYTES beyond its data, empty ones too.
  const overruns: [name: string, limits: Partial<Limits>][] = [
    ['outputBytes', { outputBytes: outputCost('123456') + outputCost('7890') + OUTPUT_OVERHEAD_BYTES - 1 }],
    ['outputs', { outputs: 2 }],
  ]
  for (const [name, limits] of overruns) {
    it(`ends a job that overruns ${name} with OutputLimitExceeded and cancels it in the sandbox`, async () => {
      const { launcher, server } = await setup()
      const sandbox = await launcher.launched(1)
      const job = testJob('flood()', { limits })
      await server.send({ type: 'submit', job })
      await sandbox.waitForRun(job.jobId)
      const out = (data: string) => ({ type: 'output', jobId: job.jobId, output: { stream: 'stdout', mime: 'text/plain', data } })
      await sandbox.send({ type: 'started', jobId: job.jobId }, out('123456'), out('7890'), out(''), out('more'))
      await sandbox.waitFor((m) => m.type === 'cancel' && m.jobId === job.jobId)
      const end = await server.waitForEnd(job.jobId)
      expect(end.end.status).toBe('error')
      expect(end.end.error).toMatchObject({ name: 'OutputLimitExceeded' })
      // Exactly the output that fit was relayed, numbered 1, 2; the end is the last message.
      expect(server.about(job.jobId).map((m) => (m.type === 'output' ? m.output : m.type))).toEqual([
        'started',
        { seq: 1, stream: 'stdout', mime: 'text/plain', data: '123456' },
        { seq: 2, stream: 'stdout', mime: 'text/plain', data: '7890' },
        'end',
      ])

      // The sandbox ends the cancelled job; its end is not relayed again, and the slot serves the next job.
      await sandbox.send({ type: 'end', jobId: job.jobId, status: 'cancelled', usage }, { type: 'credit', credits: 1 })
      await runNext(sandbox, server)
      expect(server.about(job.jobId).filter((m) => m.type === 'end')).toHaveLength(1)
    })
  }
})
