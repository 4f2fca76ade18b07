/**
 * The `workers` request on the server link, and hosts rejoining the pool,
 * with scripted sandboxes (in-test DEALERs) so the load is exact, and the
 * test playing the server with a real DEALER:
 *
 *   TestServer DEALER ──workers {requestId}──> dispatcher ROUTER
 *                     <──workers {requestId, hosts, sandboxes}──   (no msgSeq, never replayed)
 *
 *   host down: launches fail, the pool backs off ──setUp(true)──> onHostUp ──> pool launches now
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Dispatcher } from './dispatcher.ts'
import { ScriptedLauncher } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startTestDispatcher, TestServer } from '../test/support/dispatcher.ts'

let dispatcher: Dispatcher | undefined
let server: TestServer | undefined
afterEach(async () => {
  server?.close()
  await dispatcher?.close()
})

describe('workers report', () => {
  it('lists the hosts and each sandbox with its state, load and jobs run', async () => {
    const launcher = new ScriptedLauncher()
    dispatcher = await startTestDispatcher(launcher, { pool: { size: 2, slots: 2 } })
    server = await TestServer.connect(dispatcher.endpoints.server)
    const [one, two] = [await launcher.launched(1), await launcher.launched(2)]
    // Both have connected once the pool shows 4 free slots.
    await expect.poll(async () => (await server!.hello('boot-1')).pool.freeSlots).toBe(4)

    const job = testJob('1')
    await server.send({ type: 'submit', job })
    const holder = await Promise.race([one, two].map(async (sandbox) => (await sandbox.waitForRun(job.jobId), sandbox)))
    await holder.send({ type: 'started', jobId: job.jobId })
    await server.waitForStarted(job.jobId)

    const reply = await server.workers()
    expect(reply.hosts).toEqual([{ host: 'scripted', state: 'up', sandboxes: 2, running: 1, slots: 4, lastError: null }])
    const byId = new Map(reply.sandboxes.map((sandbox) => [sandbox.id, sandbox]))
    expect(byId.get(holder.id)).toEqual({ id: holder.id, host: 'scripted', state: 'ready', slots: 2, running: 1, jobsRun: 1, lastError: null })
    const other = holder === one ? two : one
    expect(byId.get(other.id)).toMatchObject({ state: 'ready', running: 0, jobsRun: 0 })
    expect(reply).not.toHaveProperty('msgSeq')

    // After a reconnect with a new boot id, only job messages are replayed: the reply was not retained.
    const from = server.received.length
    await server.hello('boot-2')
    await server.waitForStarted(job.jobId, from)
    expect(server.received.slice(from).filter((m) => m.type === 'workersReport')).toEqual([])
  })

  it('shows a host that is down with its last error', async () => {
    const launcher = new ScriptedLauncher()
    launcher.setUp(false)
    dispatcher = await startTestDispatcher(launcher)
    server = await TestServer.connect(dispatcher.endpoints.server)
    const reply = await server.workers()
    expect(reply.hosts).toEqual([{ host: 'scripted', state: 'down', sandboxes: 0, running: 0, slots: 0, lastError: 'taken down by the test' }])
    expect(reply.sandboxes).toEqual([])
  })
})

describe('a host that comes back', () => {
  it('gets its sandbox at once, not after the retry delay', async () => {
    const launcher = new ScriptedLauncher()
    launcher.setUp(false)
    // A retry delay far longer than the test may take: only the host-up notice can launch in time.
    dispatcher = await startTestDispatcher(launcher, {}, { retryBaseMs: 600_000 })
    server = await TestServer.connect(dispatcher.endpoints.server)
    await expect.poll(() => launcher.refused).toBe(1)

    launcher.setUp(true)
    const sandbox = await launcher.launched(1)
    const job = testJob('2')
    await server.send({ type: 'submit', job })
    expect(await sandbox.waitForRun()).toBe(job.jobId)
    expect(launcher.refused).toBe(1)
  })
})
