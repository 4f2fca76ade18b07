/**
 * The dispatcher's metrics, read from its registry (metricValue) and over
 * real HTTP, with scripted sandboxes so every job ends, waits and runs
 * exactly when the test says. The test plays the server with a real DEALER.
 *
 *   TestServer ──submit──> dispatcher ──run──> scripted sandbox ──started/end──> dispatcher ──end──> TestServer
 *                              │ counters, histograms, gauges (on scrape)
 *   fetch ──GET /metrics──> node:http ──> Prometheus text
 */
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../telemetry/logger.ts'
import { metricValue } from '../telemetry/metrics.ts'
import type { Launcher } from './launcher.ts'
import { DispatcherMetrics } from './metrics.ts'
import { Pool } from './pool.ts'
import type { ScriptedSandbox } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startScriptedDispatcher, type ScriptedDispatcher } from '../test/support/dispatcher.ts'

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }

let running: ScriptedDispatcher | undefined
afterEach(() => running?.close())

async function setup(pool: { size?: number; slots?: number } = {}, autoCredit = true): Promise<ScriptedDispatcher> {
  return (running = await startScriptedDispatcher(pool, { autoCredit }))
}

async function finish(sandbox: ScriptedSandbox, jobId: string): Promise<void> {
  await sandbox.send({ type: 'started', jobId }, { type: 'end', jobId, status: 'done', usage }, { type: 'credit', credits: 1 })
}

describe('dispatcher metrics', () => {
  it('counts each end by status and observes wait and run time once per job', async () => {
    const { launcher, server, metric } = await setup()
    const sandbox = await launcher.launched(1)
    const job = testJob('1')
    const submitted = performance.now()
    await server.send({ type: 'submit', job })
    await sandbox.waitForRun(job.jobId)
    await finish(sandbox, job.jobId)
    await server.waitForEnd(job.jobId)
    const tookSeconds = (performance.now() - submitted) / 1000

    expect(await metric('cellgate_dispatcher_jobs_ended_total', { status: 'done' })).toBe(1)
    expect(await metric('cellgate_dispatcher_jobs_ended_total', { status: 'lost' })).toBe(0)
    expect(await metric('cellgate_dispatcher_job_wait_seconds_count')).toBe(1)
    expect(await metric('cellgate_dispatcher_job_run_seconds_count')).toBe(1)
    // In seconds, within what the test saw from submit to end.
    const [wait, run] = [await metric('cellgate_dispatcher_job_wait_seconds_sum'), await metric('cellgate_dispatcher_job_run_seconds_sum')]
    expect(wait).toBeGreaterThan(0)
    expect(run).toBeGreaterThan(0)
    expect(wait + run).toBeLessThanOrEqual(tookSeconds)
  })

  it('counts `lost` as the dispatcher decides it; a job run twice waits once and runs once', async () => {
    const { launcher, server, metric } = await setup()
    const job = testJob('1')
    await server.send({ type: 'submit', job })
    const first = await launcher.launched(1)
    await first.waitForRun(job.jobId)
    first.die() // before started: queued again
    const second = await launcher.launched(2)
    await second.waitForRun(job.jobId)
    await second.send({ type: 'started', jobId: job.jobId })
    second.die() // running: lost
    expect((await server.waitForEnd(job.jobId)).end.status).toBe('lost')

    expect(await metric('cellgate_dispatcher_jobs_ended_total', { status: 'lost' })).toBe(1)
    expect(await metric('cellgate_dispatcher_job_wait_seconds_count')).toBe(1)
    expect(await metric('cellgate_dispatcher_job_run_seconds_count')).toBe(1)
  })

  it('a job cancelled in the queue ends `cancelled` without a wait or run time', async () => {
    const { server, metric } = await setup({}, false)
    const job = testJob('1')
    await server.send({ type: 'submit', job }, { type: 'cancel', jobId: job.jobId })
    expect((await server.waitForEnd(job.jobId)).end.status).toBe('cancelled')
    expect(await metric('cellgate_dispatcher_jobs_ended_total', { status: 'cancelled' })).toBe(1)
    expect(await metric('cellgate_dispatcher_job_wait_seconds_count')).toBe(0)
    expect(await metric('cellgate_dispatcher_job_run_seconds_count')).toBe(0)
  })

  it('shows the queue by priority and the sandboxes by state', async () => {
    const { launcher, server, metric } = await setup({ size: 1, slots: 1 }, false)
    const sandbox = await launcher.launched(1)
    const sandboxes = async () => Object.fromEntries(await Promise.all(['starting', 'ready', 'busy', 'retiring'].map(async (state) => [state, await metric('cellgate_dispatcher_sandboxes', { state })])))
    expect(await sandboxes()).toEqual({ starting: 1, ready: 0, busy: 0, retiring: 0 })

    const [low, low2, high] = [testJob('1'), testJob('2'), testJob('3', { priority: 7 })]
    await server.send(...[low, low2, high].map((job) => ({ type: 'submit' as const, job })))
    // The submits are handled in one message, before the welcome that answers the hello after them.
    await server.hello('boot-1')
    expect(await metric('cellgate_dispatcher_queue_depth', { priority: '0' })).toBe(2)
    expect(await metric('cellgate_dispatcher_queue_depth', { priority: '7' })).toBe(1)

    await sandbox.send({ type: 'credit', credits: 1 })
    expect(await sandbox.waitForRun()).toBe(high.jobId)
    expect(await metric('cellgate_dispatcher_queue_depth', { priority: '7' })).toBe(0)
    expect(await metric('cellgate_dispatcher_queue_depth', { priority: '0' })).toBe(2)
    expect(await sandboxes()).toEqual({ starting: 0, ready: 0, busy: 1, retiring: 0 })

    await finish(sandbox, high.jobId)
    await sandbox.waitForRun(low.jobId)
    await sandbox.send({ type: 'started', jobId: low.jobId }, { type: 'end', jobId: low.jobId, status: 'done', usage })
    await server.waitForEnd(low.jobId)
    await sandbox.send({ type: 'credit', credits: 1 })
    await sandbox.waitForRun(low2.jobId)
    await finish(sandbox, low2.jobId)
    await server.waitForEnd(low2.jobId)
    expect(await sandboxes()).toEqual({ starting: 0, ready: 1, busy: 0, retiring: 0 })
    expect(await metric('cellgate_dispatcher_queue_depth', { priority: '0' })).toBe(0)
  })

  it('counts a sandbox that is being killed as retiring until its process has ended', async () => {
    // Processes that never end, so the pool holds the killed one as retiring.
    const launcher: Launcher = { name: 'stub', close: async () => {}, launch: async ({ id }) => ({ id, host: 'stub', pid: undefined, exited: new Promise(() => {}), kill: () => {} }) }
    const pool = new Pool(launcher, { size: 2, slots: 1, endpoint: 'tcp://127.0.0.1:1', startTimeoutMs: 60_000, log: silentLogger() }, { onRetired: () => {}, onFree: () => {} })
    const registry = new Registry()
    new DispatcherMetrics(registry, { queued: () => [], sandboxes: () => pool.list() })
    pool.fill()
    await expect.poll(() => pool.list().length).toBe(2)
    pool.retire(pool.list()[0]!, 'test')
    expect(await metricValue(registry, 'cellgate_dispatcher_sandboxes', { state: 'retiring' })).toBe(1)
    expect(await metricValue(registry, 'cellgate_dispatcher_sandboxes', { state: 'starting' })).toBe(1)
    pool.retire(pool.list()[1]!, 'test') // clears its start timer
  })

  it('serves GET /metrics in the Prometheus text format on its own address, and 404 elsewhere', async () => {
    const { launcher, server, dispatcher } = await setup()
    const sandbox = await launcher.launched(1)
    const job = testJob('1')
    await server.send({ type: 'submit', job })
    await sandbox.waitForRun(job.jobId)
    await finish(sandbox, job.jobId)
    await server.waitForEnd(job.jobId)

    expect(dispatcher.endpoints.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const res = await fetch(dispatcher.endpoints.metrics)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toContain('# TYPE cellgate_dispatcher_jobs_ended_total counter')
    expect(text).toMatch(/^cellgate_dispatcher_jobs_ended_total\{status="done"\} 1$/m)
    expect(text).toMatch(/^cellgate_dispatcher_job_wait_seconds_count 1$/m)
    expect(text).toMatch(/^cellgate_dispatcher_job_run_seconds_bucket\{le="\+Inf"\} 1$/m)
    expect(text).toMatch(/^cellgate_dispatcher_queue_depth\{priority="0"\} 0$/m)
    expect(text).toMatch(/^cellgate_dispatcher_sandboxes\{state="ready"\} 1$/m)
    expect(text).toMatch(/^cellgate_dispatcher_messages_dropped_total\{reason="invalid"\} 0$/m)

    const base = dispatcher.endpoints.metrics.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/`)).status).toBe(404)
    expect((await fetch(`${base}/metrics/x`)).status).toBe(404)
    expect((await fetch(dispatcher.endpoints.metrics, { method: 'POST' })).status).toBe(405)
  })
})
