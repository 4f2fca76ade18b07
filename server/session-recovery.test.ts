/**
 * Sessions whose sandbox went away while the server was not listening end,
 * so they stop counting against sessions.maxPerClient: a real server
 * (in-process, SQLite, ZeroMQ DEALER) and a real dispatcher with a scripted
 * sandbox, which the test restarts on the same endpoint.
 *
 *   client ──POST /sessions, POST /cells {session}──> server ──submit──> dispatcher#1 ──run──> sandbox (ends the cell)
 *   dispatcher#1 closes; dispatcher#2 binds the same endpoint (new bootId)
 *   server <──welcome (new boot)── dispatcher#2
 *          ──checkSessions {S}──>   (S's cells all ended; #2 holds no S)
 *          <──sessionEnded {S, the sandbox … went away}──
 *   S ended · POST /sessions: 201 again (maxPerClient 1)
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SessionView } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import type { Dispatcher } from '../worker/dispatcher.ts'
import { testConfig } from '../test/support/config.ts'
import { startTestDispatcher } from '../test/support/dispatcher.ts'
import { ScriptedLauncher } from '../test/support/scripted-launcher.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { freePort } from '../test/support/test-cluster.ts'
import { startServer } from './main.ts'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }

async function post(url: string, body: object = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

describe('sessions after a dispatcher restart', () => {
  it('ends a session the new dispatcher does not hold, and the client can open a new one', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`
    const start = async (): Promise<{ dispatcher: Dispatcher; launcher: ScriptedLauncher }> => {
      const launcher = new ScriptedLauncher()
      // The port of the dispatcher closed just before is released asynchronously: try again briefly.
      const dispatcher = await vi.waitFor(() => startTestDispatcher(launcher, { endpoint }), { timeout: 5_000, interval: 50 })
      cleanup.push(() => dispatcher.close())
      return { dispatcher, launcher }
    }
    const { dispatcher, launcher } = await start()
    const tmp = tempDir()
    cleanup.push(() => tmp.remove())
    const config = testConfig({ server: { dataDir: tmp.dir, helloIntervalMs: 100 }, dispatcher: { endpoint }, sessions: { maxPerClient: 1 } })
    const server = await startServer(config, { logger: silentLogger(), webRoot: tmp.dir })
    cleanup.push(() => server.close())

    const created = await post(`${server.url}/api/v1/sessions`)
    expect(created.status).toBe(201)
    const session = (await created.json()) as SessionView
    const cell = await post(`${server.url}/api/v1/cells`, { code: 'x = 1', session: session.id })
    const { id: jobId } = (await cell.json()) as { id: string }
    const sandbox = await launcher.launched(1)
    await sandbox.waitForRun(jobId)
    await sandbox.send({ type: 'started', jobId }, { type: 'end', jobId, status: 'done', result: { text: '1' }, usage })
    await vi.waitFor(async () => expect((await server.store.getJob(jobId))?.status).toBe('done'), { timeout: 10_000, interval: 20 })
    expect((await post(`${server.url}/api/v1/sessions`)).status).toBe(429)

    await dispatcher.close()
    await start()

    await vi.waitFor(async () => expect((await server.store.getSession(session.id))?.status).toBe('ended'), { timeout: 15_000, interval: 20 })
    expect((await server.store.getSession(session.id))?.endReason).toMatch(/the sandbox holding this session's context went away/)
    expect((await post(`${server.url}/api/v1/sessions`)).status).toBe(201)
  }, 30_000)
})
