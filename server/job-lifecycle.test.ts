/**
 * A job's life through the real server (HTTP, SQLite, ZeroMQ DEALER), with
 * this test playing the dispatcher on a real ROUTER socket:
 *
 *   test (fetch) --HTTP--> server --DEALER--------> ROUTER (test: dispatcher)
 *                                  hello, submit ->
 *                                  <- welcome, started, output…, end
 *                                  ack {upTo} ->      (only once stored)
 *
 *   restart:  server#1 closes; server#2 (same id, same data dir) says hello
 *             with a new bootId and serves what #1 stored.
 *   recovery: the dispatcher restarts (new ROUTER, new bootId); on its
 *             welcome the server re-submits queued jobs and ends `lost`
 *             the running ones of the old boot.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Router } from 'zeromq'
import { decode, encode, serverMessageSchema } from '../protocol/index.ts'
import type { DispatcherMessage, MessageOf, PoolState, ServerMessage } from '../protocol/index.ts'
import { startServer, type RunningServer } from './main.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { testConfig } from '../test/support/config.ts'
import { readSse } from '../test/support/sse.ts'
import { ADMIN_KEY, withKey } from '../test/support/principals.ts'

const POOL: PoolState = { sandboxes: 1, connected: 1, ready: 1, freeSlots: 2, queued: 0 }
const WAIT = { timeout: 15_000, interval: 5 }

/** Plays the dispatcher: answers hello with welcome, records what the server sends, sends what the test says. */
class FakeDispatcher {
  readonly received: { from: string; message: ServerMessage }[] = []
  private readonly router = new Router({ handover: true, linger: 0 })

  constructor(readonly bootId: string) {}

  async bind(endpoint = 'tcp://127.0.0.1:*'): Promise<string> {
    // The port of a dispatcher closed just before is released asynchronously: try again briefly.
    await vi.waitFor(() => this.router.bind(endpoint), { timeout: 5_000, interval: 20 })
    void this.receive()
    return this.router.lastEndpoint!
  }

  send(serverId: string, messages: DispatcherMessage[]): Promise<void> {
    return this.router.send([serverId, ...messages.map(encode)])
  }

  /** The first message received (after `from`) that matches, waiting for it if needed. */
  async next<T extends ServerMessage['type']>(type: T, match: (m: MessageOf<ServerMessage, T>) => boolean = () => true, from = 0): Promise<MessageOf<ServerMessage, T>> {
    let found: MessageOf<ServerMessage, T> | undefined
    await vi.waitFor(() => {
      found = this.received.slice(from).map((r) => r.message).find((m): m is MessageOf<ServerMessage, T> => m.type === type && match(m as MessageOf<ServerMessage, T>))
      expect(found, `a ${type} message`).toBeDefined()
    }, WAIT)
    return found!
  }

  close(): void {
    this.router.close()
  }

  private async receive(): Promise<void> {
    for await (const [from, ...frames] of this.router) {
      for (const frame of frames) {
        const message = decode(serverMessageSchema, frame)
        this.received.push({ from: from!.toString(), message })
        if (message.type === 'hello') await this.send(message.serverId, [{ type: 'welcome', bootId: this.bootId, pool: POOL }])
      }
    }
  }
}

const SERVER_ID = 'server-under-test'
let tmp: ReturnType<typeof tempDir>
let dispatcher: FakeDispatcher
let endpoint: string
const servers: RunningServer[] = []

async function start(): Promise<RunningServer> {
  const config = testConfig({ server: { id: SERVER_ID, dataDir: tmp.dir, helloIntervalMs: 200 }, dispatcher: { endpoint } })
  const server = await startServer(config, { logger: silentLogger(), webRoot: tmp.dir })
  servers.push(server)
  return server
}

async function submit(server: RunningServer, body: object = { code: 'console.log(1)' }): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  expect(res.status).toBe(202)
  const { id } = (await res.json()) as { id: string }
  await dispatcher.next('submit', (m) => m.job.jobId === id)
  return id
}

function run(jobId: string, outputs: number, bootId = dispatcher.bootId): DispatcherMessage[] {
  return [
    { type: 'started', jobId, msgSeq: 1, bootId, sandboxId: 'sb-1' },
    ...Array.from({ length: outputs }, (_, i): DispatcherMessage => ({
      type: 'output', jobId, msgSeq: i + 2, output: { seq: i + 1, stream: 'stdout', mime: 'text/plain', data: `out ${i + 1}\n` },
    })),
    { type: 'end', jobId, msgSeq: outputs + 2, end: { status: 'done', result: { text: '7', json: 7 }, usage: { cpuMs: 3, wallMs: 4, heapBytes: 5, outputBytes: 6 } } },
  ]
}

async function getJob(server: RunningServer, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/api/v1/cells/${id}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

beforeEach(async () => {
  tmp = tempDir()
  dispatcher = new FakeDispatcher('dispatcher-boot-1')
  endpoint = await dispatcher.bind()
})

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
  dispatcher.close()
  tmp.remove()
})

describe('job lifecycle over ZeroMQ', () => {
  it('says hello, submits, stores what the dispatcher sends, and acks only once stored', async () => {
    const server = await start()
    const hello = await dispatcher.next('hello')
    expect(hello).toEqual({ type: 'hello', serverId: SERVER_ID, bootId: expect.any(String) })
    expect(dispatcher.received[0]?.from).toBe(SERVER_ID)

    const id = await submit(server, { code: 'console.log(1)', timeoutMs: 1234 })
    const submitted = await dispatcher.next('submit', (m) => m.job.jobId === id)
    expect(submitted.job).toMatchObject({ code: 'console.log(1)', limits: { wallMs: 1234 } })

    await dispatcher.send(SERVER_ID, run(id, 3))
    const ack = await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === id && a.upTo === 5))
    expect(ack.acks).toEqual([{ jobId: id, upTo: 5 }])
    // The ack left after the store had everything.
    expect(await server.store.getOutputs(id)).toHaveLength(3)

    expect(await getJob(server, id)).toMatchObject({
      status: 'done',
      outputs: [1, 2, 3].map((seq) => ({ seq, stream: 'stdout', mime: 'text/plain', data: `out ${seq}\n` })),
      result: { text: '7', json: 7 },
      error: null,
      usage: { cpuMs: 3, wallMs: 4, heapBytes: 5, outputBytes: 6 },
      startedAt: expect.any(String),
      endedAt: expect.any(String),
    })
    const health = await fetch(`${server.url}/api/v1/health`)
    expect(await health.json()).toMatchObject({ status: 'ok', dispatcher: { connected: true, bootId: 'dispatcher-boot-1' } })
    // The process's own metrics beside the server's, each labelled with the process.
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: withKey(ADMIN_KEY) })).text()
    expect(metrics).toContain('cellgate_jobs_ended_total{status="done",process="server"} 1')
    expect(metrics).toMatch(/^cellgate_process_cpu_seconds_total\{process="server"\} /m)
  })

  it('streams outputs live in order, then done, and resumes after the end with exactly what is missing', async () => {
    const server = await start()
    const id = await submit(server)
    const res = await fetch(`${server.url}/api/v1/cells/${id}/events`)
    const reading = readSse(res)
    const messages = run(id, 4)
    await dispatcher.send(SERVER_ID, messages.slice(0, 3))
    await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === id && a.upTo === 3))
    await dispatcher.send(SERVER_ID, messages.slice(3))
    const events = await reading
    expect(events.map((e) => e.id ?? e.event)).toEqual(['status', 'status', '1', '2', '3', '4', 'status', 'done'])
    expect(events.at(-1)!.data as object).toMatchObject({ id, status: 'done' })

    const resumed = await readSse(await fetch(`${server.url}/api/v1/cells/${id}/events`, { headers: { 'Last-Event-ID': '2' } }))
    expect(resumed.map((e) => e.id ?? e.event)).toEqual(['status', '3', '4', 'done'])
  })

  it('unsubscribes an event stream whose client went away', async () => {
    const server = await start()
    const id = await submit(server)
    const abort = new AbortController()
    const res = await fetch(`${server.url}/api/v1/cells/${id}/events`, { signal: abort.signal })
    const reader = res.body!.getReader()
    await reader.read()
    expect(server.hub.size).toBe(1)
    abort.abort()
    await vi.waitFor(() => expect(server.hub.size).toBe(0), WAIT)
  })

  it('ignores a late started or output after the end, and still acks it', async () => {
    const server = await start()
    const id = await submit(server)
    await dispatcher.send(SERVER_ID, run(id, 1))
    await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === id && a.upTo === 3))
    const before = await getJob(server, id)
    await dispatcher.send(SERVER_ID, [
      { type: 'output', jobId: id, msgSeq: 4, output: { seq: 2, stream: 'stderr', mime: 'text/plain', data: 'late' } },
      { type: 'started', jobId: id, msgSeq: 5, bootId: 'other', sandboxId: 'sb-9' },
    ])
    await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === id && a.upTo === 5))
    expect(await getJob(server, id)).toEqual(before)
  })

  it('with ?wait=true answers 200 with the finished job', async () => {
    const server = await start()
    const pending = fetch(`${server.url}/api/v1/cells?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"7"}' })
    const { job } = await dispatcher.next('submit')
    await dispatcher.send(SERVER_ID, run(job.jobId, 2))
    const res = await pending
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: job.jobId, status: 'done', result: { json: 7 }, outputs: [{ seq: 1 }, { seq: 2 }] })
  })

  it('serves stored jobs and resumes streams after a server restart on the same data dir', async () => {
    const first = await start()
    const firstHello = await dispatcher.next('hello')
    const id = await submit(first)
    await dispatcher.send(SERVER_ID, run(id, 3))
    await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === id && a.upTo === 5))
    await first.close()

    const seen = dispatcher.received.length
    const second = await start()
    const secondHello = await dispatcher.next('hello', () => true, seen)
    expect(secondHello.serverId).toBe(SERVER_ID)
    expect(secondHello.bootId).not.toBe(firstHello.bootId)
    expect(await getJob(second, id)).toMatchObject({ status: 'done', outputs: [{ seq: 1 }, { seq: 2 }, { seq: 3 }] })
    const resumed = await readSse(await fetch(`${second.url}/api/v1/cells/${id}/events?lastEventId=1`))
    expect(resumed.map((e) => e.id ?? e.event)).toEqual(['status', '2', '3', 'done'])
  })

  it('on a new dispatcher boot re-submits queued jobs and ends running jobs of the old boot lost', async () => {
    const server = await start()
    const queued = await submit(server)
    const running = await submit(server)
    await dispatcher.send(SERVER_ID, [{ type: 'started', jobId: running, msgSeq: 1, bootId: dispatcher.bootId, sandboxId: 'sb-1' }])
    await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === running))

    // The dispatcher restarts on the same endpoint with a new boot id.
    dispatcher.close()
    dispatcher = new FakeDispatcher('dispatcher-boot-2')
    await dispatcher.bind(endpoint)
    const resubmitted = await dispatcher.next('submit', (m) => m.job.jobId === queued)
    expect(resubmitted.job.code).toBe('console.log(1)')
    await vi.waitFor(async () => expect((await getJob(server, running)).status).toBe('lost'), WAIT)
    expect(await getJob(server, running)).toMatchObject({ error: { name: 'DispatcherLost' }, endedAt: expect.any(String) })
    expect((await getJob(server, queued)).status).toBe('queued')
    expect(dispatcher.received.some((r) => r.message.type === 'submit' && r.message.job.jobId === running)).toBe(false)

    // A job the new boot starts is not lost by a later welcome of the same boot.
    await dispatcher.send(SERVER_ID, run(queued, 1).slice(0, 1))
    await dispatcher.next('ack', (m) => m.acks.some((a) => a.jobId === queued))
    const seen = dispatcher.received.length
    await dispatcher.next('hello', () => true, seen)
    await server.services.jobs.idle()
    expect((await getJob(server, queued)).status).toBe('running')
  })
})
