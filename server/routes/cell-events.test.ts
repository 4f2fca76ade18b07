/**
 * The event stream of a cell in-process: live order, `done`, resuming from
 * the store with Last-Event-ID without gaps or doubles (also when an output
 * is stored while the stream is opening), heartbeats and unsubscribing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DispatcherMessage } from '../../protocol/index.ts'
import { readSse, type SseEvent } from '../../test/support/sse.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer

beforeEach(async () => {
  s = await inProcessServer({ server: { streamHeartbeatMs: 100 } })
})
afterEach(async () => {
  await s.close()
})

async function submit(): Promise<string> {
  const res = await s.app.request('/api/v1/cells', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'x' }),
  })
  return ((await res.json()) as { id: string }).id
}

function output(jobId: string, seq: number): DispatcherMessage {
  return { type: 'output', jobId, msgSeq: seq + 1, output: { seq, stream: 'stdout', mime: 'text/plain', data: `line ${seq}\n` } }
}

function started(jobId: string): DispatcherMessage {
  return { type: 'started', jobId, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' }
}

function ended(jobId: string, msgSeq: number): DispatcherMessage {
  return { type: 'end', jobId, msgSeq, end: { status: 'done', result: { text: 'ok' }, usage: { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 21 } } }
}

/** Stores messages as the dispatcher link would deliver them, and waits until they are stored. */
async function deliver(messages: DispatcherMessage[]): Promise<void> {
  s.link.deliver(messages)
  await s.jobs.idle()
}

function summary(events: SseEvent[]): string[] {
  return events.map((e) => e.event === 'status' ? `status:${(e.data as { status: string }).status}` : e.event === 'output' ? `output:${e.id}` : e.event)
}

describe('GET /api/v1/cells/:id/events', () => {
  it('streams status changes and outputs live, in order, then done with the whole job', async () => {
    const id = await submit()
    const res = await s.app.request(`/api/v1/cells/${id}/events`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reading = readSse(res)
    await deliver([started(id), output(id, 1)])
    await deliver([output(id, 2), output(id, 3), ended(id, 5)])
    const events = await reading
    expect(summary(events)).toEqual(['status:queued', 'status:running', 'output:1', 'output:2', 'output:3', 'status:done', 'done'])
    expect(events[2]!.data).toEqual({ seq: 1, stream: 'stdout', mime: 'text/plain', data: 'line 1\n' })
    const done = events.at(-1)!.data as { outputs: { seq: number }[] }
    expect(done).toMatchObject({ id, status: 'done', result: { text: 'ok' } })
    expect(done.outputs.map((o) => o.seq)).toEqual([1, 2, 3])
    expect(s.hub.size).toBe(0)
  })

  it('resumes a finished job after Last-Event-ID with exactly the missing outputs', async () => {
    const id = await submit()
    await deliver([started(id), output(id, 1), output(id, 2), output(id, 3), ended(id, 5)])
    const byHeader = await readSse(await s.app.request(`/api/v1/cells/${id}/events`, { headers: { 'Last-Event-ID': '1' } }))
    expect(summary(byHeader)).toEqual(['status:done', 'output:2', 'output:3', 'done'])
    const byQuery = await readSse(await s.app.request(`/api/v1/cells/${id}/events?lastEventId=3`))
    expect(summary(byQuery)).toEqual(['status:done', 'done'])
  })

  it('resumes a running job from the store, then live, without doubles', async () => {
    const id = await submit()
    await deliver([started(id), output(id, 1), output(id, 2)])
    const reading = readSse(await s.app.request(`/api/v1/cells/${id}/events`, { headers: { 'Last-Event-ID': '1' } }))
    await deliver([output(id, 2), output(id, 3), ended(id, 5)])
    expect(summary(await reading)).toEqual(['status:running', 'output:2', 'output:3', 'status:done', 'done'])
  })

  it('sends an output stored while the stream opens once', async () => {
    const id = await submit()
    await deliver([started(id), output(id, 1)])
    // The stream subscribes, then reads the store; store output 2 in between.
    const getOutputs = s.store.getOutputs.bind(s.store)
    s.store.getOutputs = async (jobId, after, limit) => {
      await deliver([output(id, 2)])
      return getOutputs(jobId, after, limit)
    }
    const reading = readSse(await s.app.request(`/api/v1/cells/${id}/events`))
    s.store.getOutputs = getOutputs
    await vi.waitFor(() => expect(s.hub.size).toBe(1))
    await deliver([ended(id, 4)])
    expect(summary(await reading)).toEqual(['status:running', 'output:1', 'output:2', 'status:done', 'done'])
  })

  it('sends comment heartbeats and unsubscribes when the client goes away', async () => {
    const id = await submit()
    const res = await s.app.request(`/api/v1/cells/${id}/events`)
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.includes(': ping\n')) {
      const { done, value } = await reader.read()
      if (done) break // a stream that ended without a ping fails below, rather than spinning here
      text += value
    }
    expect(text).toContain(': ping\n')
    expect(s.hub.size).toBe(1)
    await reader.cancel()
    await vi.waitFor(() => expect(s.hub.size).toBe(0))
  })

  it('answers 404 for an unknown cell and 400 for a bad Last-Event-ID', async () => {
    const unknown = await s.app.request('/api/v1/cells/AAAAAAAAAAAAAAAA/events')
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } })
    const id = await submit()
    const bad = await s.app.request(`/api/v1/cells/${id}/events`, { headers: { 'Last-Event-ID': 'abc' } })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { code: 'validation_failed', message: expect.stringContaining('lastEventId') } })
    expect(s.hub.size).toBe(0)
  })
})
