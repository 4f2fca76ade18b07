/**
 * The CURVE authority with real sockets: a DEALER holding issued keys gets
 * through, one with keys the dispatcher did not issue (or revoked) is refused
 * in the handshake, so nothing it sends reaches the ROUTER.
 *
 *   DEALER (issued keys)   ──CURVE──> ROUTER ──ZAP──> authority: 200 ──> message arrives
 *   DEALER (own key pair)  ──CURVE──> ROUTER ──ZAP──> authority: 400 ──> nothing arrives
 */
import { afterEach, describe, expect, it } from 'vitest'
import { curveKeyPair, Dealer, Router } from 'zeromq'
import type { SandboxCurveKeys } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { CurveAuthority } from './curve-authority.ts'

const sockets: { close(): void }[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close()
})

async function setup(): Promise<{ authority: CurveAuthority; router: Router; endpoint: string }> {
  const authority = await CurveAuthority.start(silentLogger())
  const router = new Router({ ...authority.serverOptions(), linger: 0, receiveTimeout: 10_000 })
  await router.bind('tcp://127.0.0.1:*')
  sockets.push(router, authority)
  return { authority, router, endpoint: router.lastEndpoint! }
}

function dealer(id: string, keys: SandboxCurveKeys, endpoint: string): Dealer {
  const socket = new Dealer({ routingId: id, linger: 0, curveServerKey: keys.serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey })
  socket.connect(endpoint)
  sockets.push(socket)
  return socket
}

describe('CurveAuthority', () => {
  it('lets a sandbox with issued keys through', async () => {
    const { authority, router, endpoint } = await setup()
    await dealer('sb-ok', authority.issue('sb-ok'), endpoint).send('hello')
    const [from, body] = await router.receive()
    expect(from!.toString()).toBe('sb-ok')
    expect(body!.toString()).toBe('hello')
    expect(authority.refused).toBe(0)
  })

  it('refuses a key it did not issue: its messages never arrive', async () => {
    const { authority, router, endpoint } = await setup()
    const own = curveKeyPair()
    const forged = { serverKey: authority.issue('sb-real').serverKey, ...own }
    await dealer('sb-forged', forged, endpoint).send('forged')
    await expect.poll(() => authority.refused).toBeGreaterThan(0)
    await dealer('sb-good', authority.issue('sb-good'), endpoint).send('good')
    const [from, body] = await router.receive()
    expect([from!.toString(), body!.toString()]).toEqual(['sb-good', 'good'])
  })

  it('refuses a revoked key', async () => {
    const { authority, endpoint } = await setup()
    const keys = authority.issue('sb-gone')
    authority.revoke(keys.publicKey)
    await dealer('sb-gone', keys, endpoint).send('late')
    await expect.poll(() => authority.refused).toBeGreaterThan(0)
  })
})
