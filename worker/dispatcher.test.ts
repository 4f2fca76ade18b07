/**
 * The dispatcher for real: real sandbox processes through the local
 * launcher (one sandbox, one slot, so every job waits its turn), real
 * ROUTER sockets on loopback, and the test playing the server with a real
 * DEALER.
 *
 *   TestServer DEALER                 dispatcher                      sandbox process
 *     hello {serverId, bootId} ───>    ROUTER (servers)
 *                              <───    welcome {bootId, pool}
 *     submit {job} ───────────────>    queue ── run {job} ─────────>   DEALER (sandbox id)
 *                                                 <──────────────────  credit {slots}
 *                              <───    started {msgSeq 1} <──────────  started
 *                              <───    output {msgSeq 2, seq 1} <────  output
 *                              <───    end {msgSeq n} <──────────────  end, credit 1
 *     cancel {jobId} ─────────────>    (queued: end cancelled)  ── cancel ──> (running)
 *     ack {jobId, upTo} ──────────>    ledger drops ≤ upTo
 *     (gone; the job ends meanwhile)   end ──> lost on the wire (counted in jobs_ended_total)
 *     (reconnect, new bootId) hello ─> replay of every unacked message
 *     workers {requestId} ────────>    pool + host "local"
 *                              <───    workers {requestId, hosts, sandboxes}
 */
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DispatcherMessage } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { metricValue } from '../telemetry/metrics.ts'
import type { Dispatcher } from './dispatcher.ts'
import { LocalLauncher } from './launchers/local.ts'
import { testJob } from '../test/support/jobs.ts'
import { startTestDispatcher, TestServer } from '../test/support/dispatcher.ts'

const INFINITE = 'while (true) {}'

let launcher: LocalLauncher
let dispatcher: Dispatcher
let server: TestServer
const registry = new Registry()
const metric = (series: string, labels?: Record<string, string>) => metricValue(registry, series, labels)

beforeAll(async () => {
  launcher = new LocalLauncher({ log: silentLogger() })
  dispatcher = await startTestDispatcher(launcher, { pool: { size: 1, slots: 1 } }, { registry })
  server = await TestServer.connect(dispatcher.endpoints.server, { serverId: 'srv-main' })
})
afterAll(async () => {
  server?.close()
  await dispatcher?.close()
  await launcher?.close()
})

function msgSeqs(messages: { msgSeq: number }[]): number[] {
  return messages.map((m) => m.msgSeq)
}

describe('dispatcher with real sandboxes', () => {
  it('answers hello with welcome {bootId, pool}', async () => {
    const welcome = await server.hello('boot-1')
    expect(welcome.bootId).toBe(dispatcher.bootId)
    expect(welcome.pool).toMatchObject({ queued: 0 })
  })

  it('relays started, outputs and end, numbering msgSeq per job and output seq per job, and counts the job', async () => {
    const before = await Promise.all([metric('cellgate_dispatcher_jobs_ended_total', { status: 'done' }), metric('cellgate_dispatcher_job_wait_seconds_count'), metric('cellgate_dispatcher_job_run_seconds_count')])
    const job = testJob("console.log('one'); console.log('two'); 6 * 7")
    await server.send({ type: 'submit', job })
    const end = await server.waitForEnd(job.jobId)
    const after = await Promise.all([metric('cellgate_dispatcher_jobs_ended_total', { status: 'done' }), metric('cellgate_dispatcher_job_wait_seconds_count'), metric('cellgate_dispatcher_job_run_seconds_count')])
    expect(after).toEqual(before.map((n) => n + 1))
    const messages = server.about(job.jobId)
    expect(msgSeqs(messages)).toEqual(messages.map((_, i) => i + 1))
    const [started, ...rest] = messages
    expect(started).toMatchObject({ type: 'started', msgSeq: 1, bootId: dispatcher.bootId })
    const outputs = rest.filter((m) => m.type === 'output')
    expect(outputs.map((m) => m.output.seq)).toEqual(outputs.map((_, i) => i + 1))
    expect(outputs.map((m) => m.output.data).join('')).toMatch(/one[^]*two/)
    expect(rest.at(-1)).toBe(end)
    expect(end.end).toMatchObject({ status: 'done', result: { text: '42' } })
    expect(end.end.usage).toBeDefined()
  })

  it('relays a cell error and an output flood as `error`, and keeps serving', async () => {
    const throws = testJob("throw new TypeError('nope')")
    const flood = testJob("for (;;) console.log('x'.repeat(1000))", { limits: { outputBytes: 10_000 } })
    const next = testJob('"still here"')
    await server.send({ type: 'submit', job: throws }, { type: 'submit', job: flood }, { type: 'submit', job: next })
    expect((await server.waitForEnd(throws.jobId)).end).toMatchObject({ status: 'error', error: { name: 'TypeError', message: 'nope' } })
    expect((await server.waitForEnd(flood.jobId)).end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    const relayed = server.about(flood.jobId).reduce((n, m) => n + (m.type === 'output' ? Buffer.byteLength(m.output.data) : 0), 0)
    expect(relayed).toBeLessThanOrEqual(10_000)
    expect((await server.waitForEnd(next.jobId)).end.status).toBe('done')
  })

  it('answers workers with the one host "local" and its sandbox process', async () => {
    const job = testJob('"counted"')
    await server.send({ type: 'submit', job })
    await server.waitForEnd(job.jobId)
    const reply = await server.workers()
    expect(reply.hosts).toEqual([{ host: 'local', state: 'up', sandboxes: 1, running: 0, slots: 1, lastError: null }])
    expect(reply.sandboxes).toHaveLength(1)
    const [sandbox] = reply.sandboxes
    expect(sandbox).toMatchObject({ host: 'local', state: 'ready', slots: 1, running: 0, lastError: null })
    expect(sandbox!.pid).toBe(dispatcher.pool.get(sandbox!.id)!.handle.pid)
    expect(sandbox!.jobsRun).toBeGreaterThanOrEqual(1)
  })

  it('ignores a jobId it already holds, queued, running or ended but not acked', async () => {
    const job = testJob('1 + 1')
    await server.send({ type: 'submit', job }, { type: 'submit', job })
    await server.waitForEnd(job.jobId)
    const after = testJob('2 + 2')
    // With one slot the queue is FIFO: a second run of `job` would come before `after`.
    await server.send({ type: 'submit', job }, { type: 'submit', job: after })
    await server.waitForEnd(after.jobId)
    expect(server.about(job.jobId).map((m) => m.type)).toEqual(['started', 'end'])
  })

  it('never starts a second job on a one-slot sandbox before the first has ended (credits)', async () => {
    const jobs = [testJob('let s = 0; for (let i = 0; i < 1e5; i++) s += i; s'), testJob('"b"'), testJob('"c"')]
    await server.send(...jobs.map((job) => ({ type: 'submit' as const, job })))
    for (const job of jobs) await server.waitForEnd(job.jobId)
    const ids = new Set(jobs.map((j) => j.jobId))
    const flow = server.received.filter((m): m is Extract<DispatcherMessage, { type: 'started' | 'end' }> => (m.type === 'started' || m.type === 'end') && ids.has(m.jobId))
    expect(flow.map((m) => `${m.type}:${m.jobId}`)).toEqual(jobs.flatMap((j) => [`started:${j.jobId}`, `end:${j.jobId}`]))
  })

  it('cancels a queued job at once and a running one through its sandbox', async () => {
    const running = testJob(INFINITE, { limits: { wallMs: 30_000, cpuMs: 30_000 } })
    const queued = testJob('"never"')
    await server.send({ type: 'submit', job: running }, { type: 'submit', job: queued })
    await server.waitForStarted(running.jobId)

    await server.send({ type: 'cancel', jobId: queued.jobId })
    expect((await server.waitForEnd(queued.jobId)).end.status).toBe('cancelled')
    expect(server.about(queued.jobId).map((m) => m.type)).toEqual(['end'])

    await server.send({ type: 'cancel', jobId: running.jobId })
    expect((await server.waitForEnd(running.jobId)).end.status).toBe('cancelled')

    const next = testJob('"served"')
    await server.send({ type: 'submit', job: next })
    const end = await server.waitForEnd(next.jobId)
    expect(end.end.status).toBe('done')
    expect(end.end.result?.text).toMatch(/served/)
  })

  it('ends a running job `lost` when its sandbox is killed (-9), replaces the sandbox, serves the next job', async () => {
    const job = testJob(INFINITE, { limits: { wallMs: 30_000, cpuMs: 30_000 } })
    await server.send({ type: 'submit', job })
    const started = await server.waitForStarted(job.jobId)
    const pid = dispatcher.pool.get(started.sandboxId)?.handle.pid
    expect(pid).toBeTypeOf('number')
    process.kill(pid!, 'SIGKILL')

    const end = await server.waitForEnd(job.jobId)
    expect(end.end).toMatchObject({ status: 'lost', error: { name: 'SandboxLost', message: 'the sandbox process running this cell died (killed by SIGKILL)' } })

    const next = testJob('"after"')
    await server.send({ type: 'submit', job: next })
    expect((await server.waitForEnd(next.jobId)).end.status).toBe('done')
    expect((await server.waitForStarted(next.jobId)).sandboxId).not.toBe(started.sandboxId)
  })

  it('keeps messages until acked and replays them to a server that reconnects with a new bootId', async () => {
    const routing = { serverId: 'srv-replay', routingId: 'srv-replay' }
    const first = await TestServer.connect(dispatcher.endpoints.server, { ...routing, bootId: 'r-boot-1' })
    const job = testJob("console.log('a'); while (true) {}", { limits: { wallMs: 30_000, cpuMs: 30_000 } })
    await first.send({ type: 'submit', job })
    await first.waitFor((m) => m.type === 'output' && m.jobId === job.jobId)
    first.close()

    // While srv-replay is gone, the job ends (cancelled through another web instance): its end is lost on the wire.
    const cancelled = await metric('cellgate_dispatcher_jobs_ended_total', { status: 'cancelled' })
    const other = await TestServer.connect(dispatcher.endpoints.server, { serverId: 'srv-other' })
    await other.send({ type: 'cancel', jobId: job.jobId })
    await expect.poll(() => metric('cellgate_dispatcher_jobs_ended_total', { status: 'cancelled' })).toBe(cancelled + 1)
    other.close()

    const second = await TestServer.connect(dispatcher.endpoints.server, { ...routing, bootId: 'r-boot-2' })
    try {
      const end = await second.waitForEnd(job.jobId)
      expect(end.end.status).toBe('cancelled')
      // Everything from msgSeq 1 (started, never acked) to the end came again, in order, right after the welcome.
      expect(msgSeqs(second.about(job.jobId))).toEqual(Array.from({ length: end.msgSeq }, (_, i) => i + 1))

      // Acked up to 1: a restart replays 2..end, right after the welcome.
      await second.send({ type: 'ack', acks: [{ jobId: job.jobId, upTo: 1 }] })
      const from = second.received.length
      await second.hello('r-boot-3')
      await second.waitFor((m) => m.type === 'end' && m.jobId === job.jobId, from)
      const replayed = second.received.slice(from).filter((m) => m.type !== 'welcome')
      expect(msgSeqs(replayed as { msgSeq: number }[])).toEqual(Array.from({ length: end.msgSeq - 1 }, (_, i) => i + 2))

      // Acked through the end: the job is forgotten, a restart replays nothing of it.
      await second.send({ type: 'ack', acks: [{ jobId: job.jobId, upTo: end.msgSeq }] })
      const from2 = second.received.length
      await second.hello('r-boot-4')
      const probe = testJob('1')
      await second.send({ type: 'submit', job: probe })
      await second.waitForEnd(probe.jobId, from2)
      expect(second.received.slice(from2).filter((m) => 'jobId' in m && m.jobId === job.jobId)).toEqual([])
    } finally {
      second.close()
    }
  })
})
