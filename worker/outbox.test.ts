/**
 * Batching per tick: what is pushed for one peer during one tick leaves as
 * one multipart message. First the Outbox alone on a real ROUTER, then the
 * whole relay: a scripted sandbox sends started, outputs and end in one
 * message, and the server receives them in one message too.
 *
 *   Outbox.push × 3 (one tick) ──> ROUTER ──[id, f1, f2, f3]──> DEALER
 *   scripted sandbox ──[started, output, output, end]──> dispatcher ──[started, output, output, end]──> TestServer
 *
 * A large tick leaves in bounded messages: at most MAX_BATCH_FRAMES frames
 * and MAX_BATCH_BYTES bytes each, in order; 12 jobs × 9,000 outputs sent by
 * a sandbox in one message reach a real server and its SQLite store whole.
 *
 *   Outbox.push × 2,500 small, 3 × 3 MB, 1 × 4 MB+ ──> [1000] [1000] [500 + 3 MB] [3 MB] [3 MB] [4 MB+]
 *   scripted sandbox ──[12 × (started, 9,000 outputs, end)]──> dispatcher ──[≤ 1000] × 109──> server (startServer) ──> store
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Dealer, Router } from 'zeromq'
import type { Output } from '../protocol/index.ts'
import { ZmqDispatcherLink } from '../server/dispatcher-link.ts'
import { startServer } from '../server/main.ts'
import { silentLogger } from '../telemetry/logger.ts'
import type { Dispatcher } from './dispatcher.ts'
import { MAX_BATCH_BYTES, MAX_BATCH_FRAMES, Outbox } from './outbox.ts'
import { ScriptedLauncher } from '../test/support/scripted-launcher.ts'
import { testConfig } from '../test/support/config.ts'
import { testJob } from '../test/support/jobs.ts'
import { startTestDispatcher, TestServer } from '../test/support/dispatcher.ts'
import { tempDir } from '../test/support/temp-dir.ts'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

/** A ROUTER and a DEALER `peer-1` it knows (it has heard from it). */
async function peers(): Promise<{ router: Router; dealer: Dealer }> {
  const router = new Router({ linger: 0 })
  await router.bind('tcp://127.0.0.1:*')
  const dealer = new Dealer({ routingId: 'peer-1', linger: 0 })
  dealer.connect(router.lastEndpoint!)
  cleanup.push(() => router.close(), () => dealer.close())
  await dealer.send('hi')
  await router.receive()
  return { router, dealer }
}

describe('Outbox', () => {
  it('sends what one tick pushed for a peer as one multipart message, and drops batches for peers it cannot route', async () => {
    const { router, dealer } = await peers()

    const errors: string[] = []
    const outbox = new Outbox(router, { route: (key) => (key === 'one' ? Buffer.from('peer-1') : undefined), onSendError: (key) => errors.push(key) })
    outbox.push('nobody', Buffer.from('lost'))
    for (const text of ['a', 'b', 'c']) outbox.push('one', Buffer.from(text))
    await outbox.drain()
    outbox.push('one', Buffer.from('d'))

    expect((await dealer.receive()).map(String)).toEqual(['a', 'b', 'c'])
    expect((await dealer.receive()).map(String)).toEqual(['d'])
    expect(errors).toEqual([])
  })

  it('relays what a sandbox sent in one message to the server in one message', async () => {
    const launcher = new ScriptedLauncher()
    const dispatcher: Dispatcher = await startTestDispatcher(launcher)
    const server = await TestServer.connect(dispatcher.endpoints.server)
    cleanup.push(() => dispatcher.close(), () => server.close())
    const sandbox = await launcher.launched(1)
    const job = testJob('x')
    await server.send({ type: 'submit', job })
    await sandbox.waitForRun(job.jobId)
    const out = (data: string) => ({ type: 'output', jobId: job.jobId, output: { stream: 'stdout', mime: 'text/plain', data } })
    const before = server.batchSizes.length
    await sandbox.send({ type: 'started', jobId: job.jobId }, out('1'), out('2'), { type: 'end', jobId: job.jobId, status: 'done', usage: { cpuMs: 0, wallMs: 0, heapBytes: 0, outputBytes: 2 } })
    await server.waitForEnd(job.jobId)
    expect(server.batchSizes.slice(before)).toEqual([4])
    expect(server.about(job.jobId).map((m) => m.msgSeq)).toEqual([1, 2, 3, 4])
  })

  it(`sends a large tick in messages of at most ${MAX_BATCH_FRAMES} frames and ${MAX_BATCH_BYTES} bytes, in order`, async () => {
    const { router, dealer } = await peers()
    const outbox = new Outbox(router, { route: () => Buffer.from('peer-1'), onSendError: () => {} })

    const small = Array.from({ length: 2500 }, (_, i) => Buffer.from(`f${i}`))
    const big = Array.from({ length: 3 }, (_, i) => Buffer.alloc(3 * 1024 * 1024, 65 + i))
    const huge = Buffer.alloc(MAX_BATCH_BYTES + 1, 90)
    for (const frame of [...small, ...big, huge]) outbox.push('one', frame)

    const messages: Buffer[][] = []
    while (messages.flat().length < small.length + big.length + 1) messages.push(await dealer.receive())
    expect(messages.map((m) => m.length)).toEqual([1000, 1000, 501, 1, 1, 1])
    const sent = [...small, ...big, huge]
    // Buffer.equals: a deep equal of 13 MB byte by byte takes minutes.
    expect(messages.flat().every((frame, i) => frame.equals(sent[i]!))).toBe(true)
  })

  it('relays 108,000 outputs a sandbox sent in one message as bounded messages, all stored by the server in order', async () => {
    const JOBS = 12
    const OUTPUTS = 9_000
    const launcher = new ScriptedLauncher()
    const dispatcher = await startTestDispatcher(launcher, { pool: { size: 1, slots: JOBS } })
    cleanup.push(() => dispatcher.close())
    const tmp = tempDir()
    cleanup.push(() => tmp.remove())
    const config = testConfig({ server: { dataDir: tmp.dir }, dispatcher: { endpoint: dispatcher.endpoints.server } })
    const link = new ZmqDispatcherLink({ endpoint: dispatcher.endpoints.server, serverId: 'srv-outbox', helloIntervalMs: 500, requestTimeoutMs: 2000, logger: silentLogger() })
    // What the server's link receives, message by message.
    const received: number[] = []
    const onMessages = link.onMessages.bind(link)
    link.onMessages = (handler) => onMessages((batch) => {
      received.push(batch.length)
      handler(batch)
    })
    const server = await startServer(config, { link, logger: silentLogger(), webRoot: tmp.dir })
    cleanup.push(() => server.close())

    const ids: string[] = []
    for (let i = 0; i < JOBS; i++) {
      const res = await fetch(`${server.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'flood()' }) })
      expect(res.status).toBe(202)
      ids.push(((await res.json()) as { id: string }).id)
    }
    const sandbox = await launcher.launched(1)
    for (const id of ids) await sandbox.waitForRun(id)
    const frames: object[] = []
    for (const jobId of ids) {
      frames.push({ type: 'started', jobId })
      for (let i = 1; i <= OUTPUTS; i++) frames.push({ type: 'output', jobId, output: { stream: 'stdout', mime: 'text/plain', data: `${i}` } })
      frames.push({ type: 'end', jobId, status: 'done', result: { text: 'ok' }, usage: { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 } })
    }
    await sandbox.send(...frames)

    await vi.waitFor(async () => {
      for (const id of ids) expect((await server.store.getJob(id))?.status).toBe('done')
    }, { timeout: 60_000, interval: 100 })
    for (const id of ids) {
      const outputs = await server.store.getOutputs(id)
      expect(outputs.map((o: Output) => o.data)).toEqual(Array.from({ length: OUTPUTS }, (_, i) => `${i + 1}`))
    }
    // 12 × 9,002 messages in one tick: more than a hundred messages, none over the bound.
    expect(Math.max(...received)).toBeLessThanOrEqual(MAX_BATCH_FRAMES)
    expect(received.filter((n) => n === MAX_BATCH_FRAMES).length).toBeGreaterThanOrEqual(100)
  }, 90_000)
})
