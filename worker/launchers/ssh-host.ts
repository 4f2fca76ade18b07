/**
 * One SSH host of the SSH launcher: a single ssh2 connection kept alive
 * (SSH keepalives, so a host that stops answering is noticed), checked
 * against known_hosts on every connect, and reconnected with exponential
 * backoff after it drops. Its state (connecting, up, down with the last
 * error) tells the launcher where new sandboxes may go; sandboxes are
 * channels (`exec`) on this one connection.
 */
import { EventEmitter } from 'node:events'
import { connect as connectTcp, type Socket } from 'node:net'
import { Client, type ClientChannel, type ServerHostKeyAlgorithm } from 'ssh2'
import { SSH_TARGET } from '../../config/schema.ts'
import type { Logger } from '../../telemetry/logger.ts'
import { checkHostKey, knownHostsName, knownKeyTypes, readKnownHosts, rememberHostKey } from './known-hosts.ts'

export interface SshTarget {
  user: string
  host: string
  port: number
}

export type HostState = 'connecting' | 'up' | 'down'

export interface SshHostOptions {
  privateKey: Buffer
  knownHostsPath: string
  /** Accept and remember the key of a host that has none in known_hosts. A changed key is refused all the same. */
  trustNewHosts: boolean
  /** Default 5 s; the host is down after keepaliveCountMax unanswered keepalives (default 3). */
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
  /** TCP connect plus SSH handshake. Default 10 s. */
  readyTimeoutMs?: number
  /** Reconnect delay: doubles from base (default 500 ms) up to max (default 30 s) while connects fail. */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** The process's logger; the host logs its changes of state as component `ssh-host` with its name. */
  log: Logger
}

/** A host that cannot take a sandbox now. */
export class HostDownError extends Error {
  override name = 'HostDownError'
}

/**
 * @example
 *   parseSshTarget('untrusted@10.0.0.2:2222') // { user: 'untrusted', host: '10.0.0.2', port: 2222 }
 *   parseSshTarget('untrusted@[fd00::2]')     // { user: 'untrusted', host: 'fd00::2', port: 22 }
 */
export function parseSshTarget(text: string): SshTarget {
  const match = SSH_TARGET.exec(text.trim())
  const port = Number(match?.[3] ?? 22)
  if (!match || port < 1 || port > 65535) throw new Error(`ssh host ${JSON.stringify(text)}: expected user@host[:port]`)
  return { user: match[1]!, host: match[2]!.replace(/^\[(.*)\]$/, '$1'), port }
}

/** Emits 'state' (this) on every change of state. */
export class SshHost extends EventEmitter {
  state: HostState = 'connecting'
  lastError: string | null = null
  /** Since when it is in its state. */
  since = new Date()
  /** Our address on the connection: one the host can reach us at. */
  localAddress: string | null = null
  readonly name: string
  private client: Client | null = null
  private failures = 0
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private readonly log: Logger

  constructor(readonly target: SshTarget, private readonly options: SshHostOptions) {
    super()
    this.name = `${target.user}@${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
    this.log = options.log.child({ component: 'ssh-host', host: this.name })
  }

  start(): void {
    this.connect()
  }

  /** Runs `command` in a new session channel (no tty: the sandbox's stdin is the channel). */
  exec(command: string): Promise<ClientChannel> {
    const client = this.client
    if (this.state !== 'up' || !client) return Promise.reject(new HostDownError(`${this.name} is ${this.state}${this.lastError ? `: ${this.lastError}` : ''}`))
    return new Promise((resolve, reject) => {
      client.exec(command, (err, channel) => (err ? reject(new HostDownError(`${this.name}: ${err.message}`)) : resolve(channel)))
    })
  }

  /** Ends the connection (its channels close) and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    const client = this.client
    if (!client) return
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve())
      client.end()
    })
  }

  private setState(state: HostState, error?: string): void {
    if (error !== undefined) this.lastError = error
    if (state === this.state) return
    this.state = state
    this.since = new Date()
    if (state === 'down') this.log.warn({ state, reason: this.lastError }, 'ssh host down')
    else this.log.info({ state }, `ssh host ${state}`)
    this.emit('state', this)
  }

  private connect(): void {
    if (this.closed) return
    this.timer = null
    const { host, port, user } = this.target
    const name = knownHostsName(host, port)
    const known = readKnownHosts(this.options.knownHostsPath)
    const client = new Client()
    this.client = client
    let ready = false
    let failure: string | null = null
    let socket: Socket | null = null

    client.on('ready', () => {
      ready = true
      this.failures = 0
      this.localAddress = socket?.localAddress ?? null
      this.setState('up')
    })
    client.on('error', (err) => {
      failure ??= err.message
    })
    client.on('close', () => {
      if (this.client === client) this.client = null
      this.localAddress = null
      if (this.closed) return this.setState('down', 'closed by the dispatcher')
      this.setState('down', failure ?? (ready ? 'connection closed' : 'connection closed during the handshake'))
      this.scheduleReconnect(ready)
    })

    socket = connectTcp({ host, port })
    socket.setNoDelay(true)
    client.connect({
      sock: socket,
      username: user,
      privateKey: this.options.privateKey,
      keepaliveInterval: this.options.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
      readyTimeout: this.options.readyTimeoutMs ?? 10_000,
      // Offer only the key types known_hosts holds for this host, so the server shows one we can check.
      algorithms: hostKeyAlgorithms(knownKeyTypes(known, name)),
      hostVerifier: (key: Buffer) => {
        const verdict = checkHostKey(readKnownHosts(this.options.knownHostsPath), name, key)
        if (verdict === 'known') return true
        if (verdict === 'unknown' && this.options.trustNewHosts) {
          rememberHostKey(this.options.knownHostsPath, name, key)
          this.log.warn({ knownHostsPath: this.options.knownHostsPath }, 'ssh host: trusting its key on first use, added to known_hosts')
          return true
        }
        failure = verdict === 'unknown'
          ? `host key of ${name} not in ${this.options.knownHostsPath} (add it, e.g. ssh-keyscan, or set CELLGATE_SSH_TRUST_NEW_HOSTS=true)`
          : `host key of ${name} ${verdict === 'revoked' ? 'is revoked' : 'does not match the one in ' + this.options.knownHostsPath}`
        return false
      },
    })
  }

  /** A connection that was up is retried at once after the base delay; failing connects back off. */
  private scheduleReconnect(wasUp: boolean): void {
    const base = this.options.backoffBaseMs ?? 500
    const delay = wasUp ? base : Math.min(base * 2 ** this.failures, this.options.backoffMaxMs ?? 30_000)
    if (!wasUp) this.failures++
    this.timer = setTimeout(() => {
      this.setState('connecting')
      this.connect()
    }, delay)
    this.timer.unref()
  }
}

const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  // An RSA key signs with SHA-2 too.
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/** Key types ssh2 does not know (security keys, certificates) are left out: they could not be checked anyway. */
function hostKeyAlgorithms(keyTypes: string[]): { serverHostKey?: ServerHostKeyAlgorithm[] } {
  const algorithms = keyTypes.flatMap((type) => HOST_KEY_ALGORITHMS[type] ?? [])
  return algorithms.length > 0 ? { serverHostKey: algorithms } : {}
}
