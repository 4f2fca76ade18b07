/**
 * CURVE for the sandbox link across hosts: the dispatcher's server key pair,
 * a fresh client key pair issued to each sandbox it launches over SSH, and a
 * ZAP handler that lets a connection through only when its client key is one
 * the dispatcher issued and has not revoked. Anything else is refused during
 * the handshake, so its messages never reach the dispatcher.
 *
 *   sandbox DEALER ──CURVE hello (client public key)──> dispatcher ROUTER
 *                                                          │ ZAP request (inproc://zeromq.zap.01)
 *                                         CurveAuthority <─┘ 200 if issued, 400 if not
 *
 * libzmq looks for the ZAP handler in the socket's own context, and lets
 * every client in while none is bound: so the authority owns a context, binds
 * its handler before any socket of that context binds, and the ROUTER must be
 * created with `authority.serverOptions()`.
 */
import { Context, curveKeyPair, Router } from 'zeromq'
import type { SandboxCurveKeys } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01'
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#'

/**
 * @example
 *   const authority = await CurveAuthority.start(log)
 *   const router = new Router({ ...authority.serverOptions(), linger: 0 })
 *   const keys = authority.issue('sb-1') // goes into the sandbox's boot line
 *   authority.revoke(keys.publicKey)      // when that sandbox has ended
 */
export class CurveAuthority {
  readonly context = new Context()
  /** Connections refused since start, for monitoring and tests. */
  refused = 0
  private readonly server = curveKeyPair()
  /** Issued public key (Z85) -> sandbox id. */
  private readonly issued = new Map<string, string>()
  private readonly handler: Router
  private readonly log: Logger

  private constructor(log: Logger) {
    this.log = log.child({ component: 'curve-authority' })
    this.handler = new Router({ context: this.context, linger: 0 })
  }

  /** `log`: the process's logger; refusals are logged as component `curve-authority`. */
  static async start(log: Logger): Promise<CurveAuthority> {
    const authority = new CurveAuthority(log)
    await authority.handler.bind(ZAP_ENDPOINT)
    void authority.serve()
    return authority
  }

  /** Options for the dispatcher's sandbox ROUTER: this context, CURVE server with the server key. */
  serverOptions(): { context: Context; curveServer: true; curveSecretKey: string; curvePublicKey: string } {
    return { context: this.context, curveServer: true, curveSecretKey: this.server.secretKey, curvePublicKey: this.server.publicKey }
  }

  issue(sandboxId: string): SandboxCurveKeys {
    const pair = curveKeyPair()
    this.issued.set(pair.publicKey, sandboxId)
    return { serverKey: this.server.publicKey, publicKey: pair.publicKey, secretKey: pair.secretKey }
  }

  /** Refuses the key from now on (connections already made stay; the sandbox is gone anyway). */
  revoke(publicKey: string): void {
    this.issued.delete(publicKey)
  }

  close(): void {
    this.handler.close()
  }

  /**
   * ZAP (RFC 27) requests arrive as [routing id, '', version, request id,
   * domain, address, identity, mechanism, credentials…]; for CURVE the one
   * credential is the client's 32-byte public key.
   */
  private async serve(): Promise<void> {
    for await (const [from, , version, requestId, , address, , mechanism, key] of this.handler) {
      const z85 = key?.length === 32 ? z85Encode(key) : ''
      const sandboxId = mechanism?.toString() === 'CURVE' ? this.issued.get(z85) : undefined
      const ok = version?.toString() === '1.0' && sandboxId !== undefined
      if (!ok) {
        this.refused++
        this.log.warn({ address: address?.toString() ?? 'unknown' }, 'refused a sandbox connection: key not issued by this dispatcher')
      }
      await this.handler.send([from!, '', '1.0', requestId ?? '', ok ? '200' : '400', ok ? 'OK' : 'key not issued', sandboxId ?? '', ''])
    }
  }
}

/** Z85 (ZeroMQ RFC 32) of a key whose length is a multiple of 4, as curveKeyPair() writes keys. */
function z85Encode(bytes: Buffer): string {
  let text = ''
  for (let i = 0; i < bytes.length; i += 4) {
    let value = bytes.readUInt32BE(i)
    const chunk: string[] = []
    for (let j = 0; j < 5; j++) {
      chunk.unshift(Z85[value % 85]!)
      value = Math.floor(value / 85)
    }
    text += chunk.join('')
  }
  return text
}
