/**
 * The whole path of a cell on loopback, with real processes: server and
 * dispatcher started as `cellgate server` / `cellgate dispatcher`, real
 * sandboxes, real SQLite, real sockets, and faults injected from outside.
 *
 *   client --HTTP/SSE--> server --ZeroMQ--> dispatcher --ZeroMQ--> sandbox (isolate)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents, type SseEvent } from './support/sse.ts'
import { startTestCluster, type TestCluster } from './support/test-cluster.ts'

interface Job {
  id: string
  status: string
  outputs: { seq: number; stream: string; mime: string; data: string }[]
  result: { text: string; json?: unknown } | null
  error: { name: string; message: string; stack?: string } | null
  usage: { cpuMs: number; wallMs: number; heapBytes: number; outputBytes: number } | null
  links: { self: string; events: string }
}

let cluster: TestCluster

beforeAll(async () => {
  cluster = await startTestCluster({ CELLGATE_POOL_SIZE: '1', CELLGATE_SANDBOX_SLOTS: '2' })
})
afterAll(async () => {
  await cluster?.close()
})

async function submit(body: object, query = ''): Promise<{ status: number; body: Job }> {
  const res = await fetch(`${cluster.url}/api/v1/cells${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Job }
}

async function getJob(id: string): Promise<Job> {
  return (await (await fetch(`${cluster.url}/api/v1/cells/${id}`)).json()) as Job
}

/**
 * Reads a job's events until `done` or until `stop` says enough. `onEvent`
 * runs before the next event is read, so what it checks happens while that
 * event is the latest the client has.
 */
async function follow(id: string, options: { lastEventId?: string; stop?: (ev: SseEvent, seen: SseEvent[]) => boolean; onEvent?: (ev: SseEvent) => Promise<void> } = {}) {
  const seen: SseEvent[] = []
  const controller = new AbortController()
  try {
    for await (const ev of readEvents(`${cluster.url}/api/v1/cells/${id}/events`, { ...options, signal: controller.signal })) {
      seen.push(ev)
      await options.onEvent?.(ev)
      if (ev.event === 'done' || options.stop?.(ev, seen)) break
    }
  } finally {
    controller.abort()
  }
  return seen
}

const outputsOf = (events: SseEvent[]) => events.filter((e) => e.event === 'output').map((e) => e.data as Job['outputs'][number])

describe('a cell end to end', () => {
  it('streams outputs as they are produced and stores the finished job', async () => {
    const code = [
      "console.log('first')",
      // Long enough that the client reads the stored job before the cell can have ended.
      'await new Promise((r) => setTimeout(r, 1000))',
      "console.warn('second')",
      "display.html('<b>third</b>')",
      '6 * 7',
    ].join('\n')
    const { status, body } = await submit({ code })
    expect(status).toBe(202)
    expect(body.links.events).toBe(`/api/v1/cells/${body.id}/events`)

    // What the store says when the first output arrives: streamed live, it is still running.
    let storedAtFirstOutput: string | undefined
    const events = await follow(body.id, {
      onEvent: async (ev) => {
        if (ev.event === 'output' && storedAtFirstOutput === undefined) storedAtFirstOutput = (await getJob(body.id)).status
      },
    })
    const outputs = outputsOf(events)
    expect(outputs.map((o) => [o.seq, o.stream, o.mime])).toEqual([
      [1, 'stdout', 'text/plain'],
      [2, 'stderr', 'text/plain'],
      [3, 'display', 'text/html'],
    ])
    expect(events.map((e) => e.id).filter(Boolean)).toEqual(['1', '2', '3'])
    expect(events.some((e) => e.event === 'status' && (e.data as { status: string }).status === 'running')).toBe(true)
    // The first output arrived while the job was running, not in one batch with its end.
    expect(storedAtFirstOutput).toBe('running')
    const done = events.at(-1)!
    expect(done.event).toBe('done')

    const finished = done.data as Job
    expect(finished.status).toBe('done')
    expect(finished.result).toEqual({ text: '42', json: 42 })
    expect(finished.usage!.outputBytes).toBeGreaterThan(0)

    const stored = await getJob(body.id)
    expect(stored.status).toBe('done')
    expect(stored.outputs).toEqual(outputs)
    expect(stored.result).toEqual(finished.result)
  })

  it('answers ?wait=true with the finished job', async () => {
    const { status, body } = await submit({ code: "throw new TypeError('nope')" }, '?wait=true')
    expect(status).toBe(200)
    expect(body.status).toBe('error')
    expect(body.error).toMatchObject({ name: 'TypeError', message: 'nope' })
    expect(body.error!.stack).toMatch(/cell/)
  })

  it('ends a job `lost` when its sandbox is killed with SIGKILL, and the pool serves the next job', async () => {
    const { body } = await submit({ code: "console.log('spinning'); while (true) {}", timeoutMs: 30_000 })
    await follow(body.id, { stop: (ev) => ev.event === 'output' })
    const pids = cluster.sandboxPids()
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of pids) process.kill(pid, 'SIGKILL')

    const done = (await follow(body.id)).at(-1)!
    expect(done.event).toBe('done')
    const job = done.data as Job
    expect(job.status).toBe('lost')
    expect(job.error!.message).toMatch(/died/)

    const next = await submit({ code: '1 + 1' }, '?wait=true')
    expect(next.body.status).toBe('done')
    expect(next.body.result!.text).toBe('2')
  })

  it('resumes with Last-Event-ID across a server restart mid-stream, nothing lost or doubled', async () => {
    const code = [
      'let i = 0',
      'await new Promise((resolve) => {',
      '  const t = setInterval(() => { console.log(`line ${++i}`); if (i === 40) { clearInterval(t); resolve() } }, 40)',
      '})',
      'i',
    ].join('\n')
    const { body } = await submit({ code })
    const before = await follow(body.id, { stop: (_ev, seen) => outputsOf(seen).length >= 5 })
    await cluster.server.stop('SIGKILL')
    cluster.server.start()
    await cluster.healthy()

    const lastId = before.filter((e) => e.id).at(-1)!.id
    const after = await follow(body.id, { lastEventId: lastId })
    const seqs = [...outputsOf(before), ...outputsOf(after)].map((o) => o.seq)
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, k) => k + 1))

    const job = after.at(-1)!.data as Job
    expect(job.status).toBe('done')
    expect(job.result!.text).toBe('40')
    expect(job.outputs.map((o) => o.data.trim())).toEqual(Array.from({ length: 40 }, (_, k) => `line ${k + 1}`))

    // And once more after the end: a resume from the middle gives exactly the rest.
    const tail = await follow(body.id, { lastEventId: '30' })
    expect(outputsOf(tail).map((o) => o.seq)).toEqual([31, 32, 33, 34, 35, 36, 37, 38, 39, 40])
  })

  it('does not forget a job submitted while the dispatcher is down', async () => {
    await cluster.dispatcher.stop('SIGTERM')
    const { status, body } = await submit({ code: "'ran after all'" })
    expect(status).toBe(202)
    expect((await getJob(body.id)).status).toBe('queued')
    cluster.dispatcher.start()

    const done = (await follow(body.id)).at(-1)!
    expect((done.data as Job).status).toBe('done')
    expect((done.data as Job).result!.text).toBe("'ran after all'")
  })
})
