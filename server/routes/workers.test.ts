/**
 * GET /api/v1/workers through the real server (HTTP, ZeroMQ DEALER), with
 * the test playing the dispatcher on a real ROUTER:
 *
 *   test (fetch) ──GET /api/v1/workers──> server ──workers {requestId}──> ROUTER (test: dispatcher)
 *                <──200 {hosts, sandboxes}──     <──workers {requestId, hosts, sandboxes}──
 *                <──503 unavailable──            (no answer within the request timeout)
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Router } from 'zeromq'
import { decode, encode, serverMessageSchema, type DispatcherMessage, type WorkersReport } from '../../protocol/index.ts'
import { startServer, type RunningServer } from '../main.ts'
import { silentLogger } from '../../telemetry/logger.ts'
import { tempDir } from '../../test/support/temp-dir.ts'
import { testConfig } from '../../test/support/config.ts'
import { ADMIN_KEY, withKey } from '../../test/support/principals.ts'

const POOL = { sandboxes: 1, connected: 1, ready: 1, freeSlots: 2, queued: 0 }
const REPORT: WorkersReport = {
  hosts: [
    { host: 'cellgate-sandbox@10.0.0.2:22', state: 'up', sandboxes: 1, running: 1, slots: 2, lastError: null },
    { host: 'cellgate-sandbox@10.0.0.3:22', state: 'down', sandboxes: 0, running: 0, slots: 0, lastError: 'connect ECONNREFUSED 10.0.0.3:22' },
  ],
  sandboxes: [{ id: 'sb-1', host: 'cellgate-sandbox@10.0.0.2:22', state: 'ready', pid: 4242, slots: 2, running: 1, jobsRun: 7, lastError: null }],
}

const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** Plays the dispatcher: welcomes every hello; answers workers requests when `answer` is true. */
async function fakeDispatcher(answer: boolean): Promise<{ endpoint: string; requests: string[] }> {
  const router = new Router({ linger: 0 })
  await router.bind('tcp://127.0.0.1:*')
  closers.push(() => router.close())
  const requests: string[] = []
  void (async () => {
    for await (const [from, ...frames] of router) {
      for (const frame of frames) {
        const message = decode(serverMessageSchema, frame)
        let reply: DispatcherMessage | null = null
        if (message.type === 'hello') reply = { type: 'welcome', bootId: 'd-1', pool: POOL }
        if (message.type === 'workersRequest') {
          requests.push(message.requestId)
          if (answer) reply = { type: 'workersReport', requestId: message.requestId, ...REPORT }
        }
        if (reply) await router.send([from!, encode(reply)])
      }
    }
  })()
  return { endpoint: router.lastEndpoint!, requests }
}

async function server(endpoint: string): Promise<RunningServer> {
  const tmp = tempDir()
  const config = testConfig({ server: { dataDir: tmp.dir, helloIntervalMs: 100, dispatcherRequestTimeoutMs: 300 }, dispatcher: { endpoint } })
  const running = await startServer(config, { logger: silentLogger(), webRoot: tmp.dir })
  closers.push(tmp.remove, running.close)
  return running
}

async function getWorkers(running: RunningServer): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${running.url}/api/v1/workers`, { headers: withKey(ADMIN_KEY) })
  return { status: res.status, body: await res.json() }
}

describe('GET /api/v1/workers', () => {
  it("answers with the dispatcher's hosts and sandboxes", async () => {
    const dispatcher = await fakeDispatcher(true)
    const running = await server(dispatcher.endpoint)
    await vi.waitFor(() => expect(running.link.state().connected).toBe(true), { timeout: 10_000, interval: 10 })
    expect(await getWorkers(running)).toEqual({ status: 200, body: REPORT })
    expect(dispatcher.requests).toHaveLength(1)
  })

  it('is 503 unavailable when the dispatcher does not answer in time, and when it is not connected', async () => {
    const silent = await fakeDispatcher(false)
    const running = await server(silent.endpoint)
    await vi.waitFor(() => expect(running.link.state().connected).toBe(true), { timeout: 10_000, interval: 10 })
    const timedOut = await getWorkers(running)
    expect(silent.requests).toHaveLength(1)
    expect(timedOut).toEqual({ status: 503, body: { error: { code: 'unavailable', message: expect.stringMatching(/dispatcher/) } } })

    // Nobody listens: no request is queued, the answer comes at once.
    const probe = new Router({ linger: 0 })
    await probe.bind('tcp://127.0.0.1:*')
    const nowhere = probe.lastEndpoint!
    probe.close()
    const alone = await server(nowhere)
    expect((await getWorkers(alone)).status).toBe(503)
  })
})
