/**
 * The server's metrics in-process: read from the registry (metricValue)
 * and as Prometheus text from GET /metrics. A job counts once however
 * often its end arrives; wait and run times come from the store's times.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DispatcherMessage } from '../protocol/index.ts'
import { metricValue } from '../telemetry/metrics.ts'
import { readSse } from '../test/support/sse.ts'
import { inProcessServer, TEST_CALLER, type InProcessServer } from '../test/support/server.ts'
import { ADMIN_KEY, withKey } from '../test/support/principals.ts'

let s: InProcessServer
beforeEach(async () => {
  s = await inProcessServer()
})
afterEach(async () => {
  await s.close()
})

const value = (series: string, labels?: Record<string, string>) => metricValue(s.metrics.registry, series, labels)
const started = (jobId: string): DispatcherMessage => ({ type: 'started', jobId, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' })
const ended = (jobId: string, msgSeq: number): DispatcherMessage => ({ type: 'end', jobId, msgSeq, end: { status: 'done', result: { text: '1' } } })
const output = (jobId: string, seq: number): DispatcherMessage =>
  ({ type: 'output', jobId, msgSeq: seq + 1, output: { seq, stream: 'stdout', mime: 'text/plain', data: 'x' } })

async function deliver(messages: DispatcherMessage[]): Promise<void> {
  s.link.deliver(messages)
  await s.jobs.idle()
}

describe('server metrics', () => {
  it('counts submitted and ended jobs once each, with wait and run times of started jobs only', async () => {
    const ran = await s.jobs.submit(TEST_CALLER, { code: 'a' })
    const cancelled = await s.jobs.submit(TEST_CALLER, { code: 'b' })
    expect(await value('cellgate_jobs_submitted_total')).toBe(2)

    await deliver([started(ran.id)])
    expect(await value('cellgate_job_wait_seconds_count')).toBe(1)
    await deliver([output(ran.id, 1), ended(ran.id, 3)])
    await deliver([ended(ran.id, 3)]) // re-sent, as after a lost ack: stored once, counted once
    await s.jobs.cancel(TEST_CALLER, cancelled.id)

    expect(await value('cellgate_jobs_ended_total', { status: 'done' })).toBe(1)
    expect(await value('cellgate_jobs_ended_total', { status: 'cancelled' })).toBe(1)
    expect(await value('cellgate_job_wait_seconds_count')).toBe(1)
    expect(await value('cellgate_job_run_seconds_count')).toBe(1)
    const stored = (await s.store.getJob(ran.id))!
    expect(await value('cellgate_job_run_seconds_sum')).toBeCloseTo((stored.endedAt! - stored.startedAt!) / 1000, 6)
  })

  it('measures store batches: their size in messages and the time each took', async () => {
    const job = await s.jobs.submit(TEST_CALLER, { code: 'a' })
    await deliver([started(job.id), output(job.id, 1), output(job.id, 2)])
    await deliver([ended(job.id, 4)])
    expect(await value('cellgate_store_batch_messages_count')).toBe(2)
    expect(await value('cellgate_store_batch_messages_sum')).toBe(4)
    expect(await value('cellgate_store_batch_seconds_count')).toBe(2)
  })

  it('counts event streams while they are open', async () => {
    const job = await s.jobs.submit(TEST_CALLER, { code: 'a' })
    const reading = readSse(await s.app.request(`/api/v1/cells/${job.id}/events`))
    await expect.poll(() => value('cellgate_event_streams_open')).toBe(1)
    await deliver([started(job.id), ended(job.id, 2)])
    await reading
    await expect.poll(() => value('cellgate_event_streams_open')).toBe(0)
  })

  it('serves every series as Prometheus text at GET /metrics, with the pool the dispatcher last reported', async () => {
    await deliver([{ type: 'welcome', bootId: 'd1', pool: { sandboxes: 2, connected: 2, ready: 1, freeSlots: 3, queued: 4 } }])
    const job = await s.jobs.submit(TEST_CALLER, { code: 'a' })
    await deliver([started(job.id), ended(job.id, 2)])
    expect(await s.app.request('/metrics')).toMatchObject({ status: 401 })
    const res = await s.app.request('/metrics', { headers: withKey(ADMIN_KEY) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    for (const line of [
      'cellgate_jobs_submitted_total 1',
      'cellgate_jobs_ended_total{status="done"} 1',
      'cellgate_job_wait_seconds_count 1',
      'cellgate_job_run_seconds_count 1',
      'cellgate_store_batch_messages_count 1', // the welcome's batch stored nothing
      'cellgate_event_streams_open 0',
      'cellgate_dispatcher_connected 1',
      'cellgate_dispatcher_pool_sandboxes{state="ready"} 1',
      'cellgate_dispatcher_pool_free_slots 3',
      'cellgate_dispatcher_pool_queued 4',
    ]) expect(text.split('\n')).toContain(line)
    expect(text).toMatch(/^cellgate_store_batch_seconds_bucket\{le="\+Inf"\} 1$/m)
  })
})
