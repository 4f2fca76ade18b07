/**
 * The DEALER link against a real ROUTER played by the test:
 *
 *   link DEALER --hello (on connect, then every interval), queued messages--> ROUTER (test)
 *               <--welcome, a bad frame, started---------------------------
 *
 * While no dispatcher listens, messages wait and hellos do not pile up.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Router } from 'zeromq'
import { rawFrame } from '../test/support/frames.ts'
import { freePort } from '../test/support/test-cluster.ts'
import { decode, encode, serverMessageSchema } from '../protocol/index.ts'
import type { DispatcherMessage, ServerMessage } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { ZmqDispatcherLink } from './dispatcher-link.ts'
import { capturingLogger } from '../test/support/logs.ts'

const WAIT = { timeout: 15_000, interval: 5 }
const closers: (() => unknown)[] = []

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** A free loopback endpoint (a ZeroMQ socket closed in-process releases its port only later). */
async function freeEndpoint(): Promise<string> {
  return `tcp://127.0.0.1:${await freePort()}`
}

async function router(endpoint: string): Promise<{ socket: Router; received: ServerMessage[][] }> {
  // As the dispatcher's: a new connection with a known routing id takes over from the old one.
  const socket = new Router({ handover: true, linger: 0 })
  await socket.bind(endpoint)
  closers.push(() => socket.close())
  const received: ServerMessage[][] = []
  void (async () => {
    for await (const [, ...frames] of socket) received.push(frames.map((f) => decode(serverMessageSchema, f)))
  })()
  return { socket, received }
}

describe('ZmqDispatcherLink', () => {
  it('keeps messages while no dispatcher listens, with one hello, and sends them on connect', async () => {
    const endpoint = await freeEndpoint()
    const { logger, records } = capturingLogger()
    const link = new ZmqDispatcherLink({ endpoint, serverId: 'srv-1', bootId: 'boot-a', helloIntervalMs: 10, requestTimeoutMs: 1000, logger })
    closers.push(() => link.close())
    // Each hello interval calls hello(): counting the calls is waiting for the intervals themselves.
    const hellos = vi.spyOn(link as unknown as { hello(): void }, 'hello')
    link.start()
    link.send([{ type: 'cancel', jobId: 'AAAAAAAAAAAAAAAA' }])
    // Let ten hello intervals pass with nobody listening.
    await vi.waitFor(() => expect(hellos.mock.calls.length).toBeGreaterThanOrEqual(10), WAIT)
    link.send([{ type: 'cancel', jobId: 'BBBBBBBBBBBBBBBB' }])

    const { received } = await router(endpoint)
    await vi.waitFor(() => expect(received.flat().filter((m) => m.type === 'cancel')).toHaveLength(2), WAIT)
    // Ten intervals passed: the hello blocked in the socket, and at most one more waiting, not ten.
    const messages = received.flat()
    const beforeCancels = messages.slice(0, messages.findIndex((m) => m.type === 'cancel'))
    expect(beforeCancels.length).toBeLessThanOrEqual(2)
    for (const m of beforeCancels) expect(m).toEqual({ type: 'hello', serverId: 'srv-1', bootId: 'boot-a' })
    const untilLastCancel = messages.slice(0, messages.findLastIndex((m) => m.type === 'cancel'))
    expect(untilLastCancel.filter((m) => m.type === 'hello').length).toBeLessThanOrEqual(3)
    expect(records).toEqual([])
  })

  it('delivers each batch in order, skips bad frames, and reports the last welcome', async () => {
    const { socket, received } = await router('tcp://127.0.0.1:*')
    const link = new ZmqDispatcherLink({ endpoint: socket.lastEndpoint!, serverId: 'srv-2', helloIntervalMs: 2000, requestTimeoutMs: 1000, logger: silentLogger() })
    closers.push(() => link.close())
    const batches: DispatcherMessage[][] = []
    link.onMessages((batch) => batches.push(batch))
    expect(link.state()).toEqual({ connected: false, bootId: null, lastSeenMs: null, pool: null })
    link.start()
    await vi.waitFor(() => expect(received.flat().some((m) => m.type === 'hello')).toBe(true), WAIT)

    const pool = { sandboxes: 2, connected: 2, ready: 2, freeSlots: 4, queued: 0 }
    const started: DispatcherMessage = { type: 'started', jobId: 'AAAAAAAAAAAAAAAA', msgSeq: 1, bootId: 'd-1', sandboxId: 's-1' }
    await socket.send(['srv-2', encode({ type: 'welcome', bootId: 'd-1', pool }), Buffer.from('not json'), rawFrame({ type: 'nope' }), encode(started)])
    await vi.waitFor(() => expect(batches).toHaveLength(1), WAIT)
    expect(batches[0]).toEqual([{ type: 'welcome', bootId: 'd-1', pool }, started])
    expect(link.state()).toMatchObject({ connected: true, bootId: 'd-1', pool })
  })

  it('replaces a socket that brings no welcome, with a new boot id, and sends what was waiting on the new one', async () => {
    const { socket, received } = await router('tcp://127.0.0.1:*') // a dispatcher that never answers
    const { logger, records } = capturingLogger()
    const link = new ZmqDispatcherLink({ endpoint: socket.lastEndpoint!, serverId: 'srv-3', bootId: 'boot-first', helloIntervalMs: 50, requestTimeoutMs: 1000, reconnectAfterMs: 300, logger })
    closers.push(() => link.close())
    link.start()
    await vi.waitFor(() => expect(received.flat().some((m) => m.type === 'hello')).toBe(true), WAIT)
    await vi.waitFor(() => expect(link.bootId).not.toBe('boot-first'), WAIT)
    link.send([{ type: 'cancel', jobId: 'CCCCCCCCCCCCCCCC' }])
    await vi.waitFor(() => {
      const hellos = received.flat().filter((m): m is Extract<ServerMessage, { type: 'hello' }> => m.type === 'hello')
      expect(hellos.some((m) => m.bootId === link.bootId)).toBe(true)
      expect(received.flat().some((m) => m.type === 'cancel')).toBe(true)
    }, WAIT)
    expect(records).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/no answer from the dispatcher/) }))
  })
})
