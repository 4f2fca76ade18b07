/**
 * The sandbox side is untrusted: what the dispatcher does with sandbox
 * frames that are invalid, from a peer it never launched, about jobs the
 * sender does not hold, with inflated credits, or overrunning the output
 * limit. Scripted sandboxes send exactly those frames over the real ROUTER;
 * the test plays the server with a real DEALER.
 *
 *   intruder DEALER (id never launched) ──credit/end──> ROUTER: dropped, counted (messages_dropped_total{reason})
 *   scripted sandbox A ──"not json", {type:'nope'}──>   ROUTER: dropped, counted
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
import { startScriptedDispatcher, type ScriptedDispatcher } from '../test/support/dispatcher.ts'

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }

let running: ScriptedDispatcher | undefined
afterEach(() => running?.close())

async function setup(pool: { size?: number; slots?: number } = {}) {
  const started = (running = await startScriptedDispatcher(pool))
  const dropped = (reason: string) => started.metric('cellgate_dispatcher_messages_dropped_total', { reason })
  return { ...started, dropped }
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

  it('drops invalid frames and messages about jobs the sender does not hold, and keeps serving', async () => {
    const { launcher, server, dropped } = await setup({ size: 2, slots: 1 })
    const [a, b] = [await launcher.launched(1), await launcher.launched(2)]
    const jobs = [testJob('1'), testJob('2')]
    await server.send(...jobs.map((job) => ({ type: 'submit' as const, job })))
    // Each sandbox has one slot: one job each, in some order.
    const jobOf = new Map<ScriptedSandbox, string>([[a, await a.waitForRun()], [b, await b.waitForRun()]])
    const jobA = jobOf.get(a)!
    const jobB = jobOf.get(b)!

    await a.send('not json', { type: 'nope' }, { type: 'credit', credits: 1000 }, { type: 'output', jobId: jobA, output: { stream: 'stdout', mime: 'text/plain', data: 1 } })
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
    expect([await dropped('invalid'), await dropped('not-assigned'), await dropped('out-of-turn')]).toEqual([4, 3, 1])
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
      const next = testJob('2')
      await server.send({ type: 'submit', job: next })
      await sandbox.waitForRun(next.jobId)
      await sandbox.send({ type: 'started', jobId: next.jobId })
      await finish(sandbox, next.jobId)
      await server.waitForEnd(next.jobId)
      expect(server.about(job.jobId).filter((m) => m.type === 'end')).toHaveLength(1)
    })
  }
})
