/**
 * Batching per tick: what is pushed for one peer during one tick leaves as
 * one multipart message. First the Outbox alone on a real ROUTER, then the
 * whole relay: a scripted sandbox sends started, outputs and end in one
 * message, and the server receives them in one message too.
 *
 *   Outbox.push × 3 (one tick) ──> ROUTER ──[id, f1, f2, f3]──> DEALER
 *   scripted sandbox ──[started, output, output, end]──> dispatcher ──[started, output, output, end]──> TestServer
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Dealer, Router } from 'zeromq'
import type { Dispatcher } from './dispatcher.ts'
import { Outbox } from './outbox.ts'
import { ScriptedLauncher } from '../test/support/scripted-launcher.ts'
import { testJob } from '../test/support/jobs.ts'
import { startTestDispatcher, TestServer } from '../test/support/dispatcher.ts'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

describe('Outbox', () => {
  it('sends what one tick pushed for a peer as one multipart message, and drops batches for peers it cannot route', async () => {
    const router = new Router({ linger: 0 })
    await router.bind('tcp://127.0.0.1:*')
    const dealer = new Dealer({ routingId: 'peer-1', linger: 0 })
    dealer.connect(router.lastEndpoint!)
    cleanup.push(() => router.close(), () => dealer.close())
    await dealer.send('hi')
    await router.receive() // the ROUTER knows the peer now

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
})
