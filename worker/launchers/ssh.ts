/**
 * The SSH launcher: sandbox processes on other hosts, as the untrusted
 * account those hosts were provisioned with (scripts/provision-host.sh), one
 * SSH session channel per sandbox over one kept-alive connection per host.
 *
 *   dispatcher ──ssh2 exec(command)──> sshd ──forced command──> sandbox (untrusted account)
 *        │      stdin: SandboxBoot {id, endpoint, slots, curve}\n  (then held open)
 *        └────<── DEALER (CURVE, keys issued for this sandbox only) ─────┘
 *
 * Every secret (endpoint, CURVE keys) goes over the channel's stdin, never in
 * the command line or environment. The sandbox exits when its stdin closes,
 * so ending the channel (kill, close, a dropped connection, a dispatcher that
 * dies) ends the sandbox: no orphans on the hosts.
 *
 * Placement: `launch` puts the sandbox on the host that is up and has the
 * most room (each host takes at most its `sandboxes`); when none can take
 * one it throws HostDownError and the pool retries later, so a host that is
 * down gets nothing until it answers again; `onHostUp` tells the pool when
 * it does, so it launches there at once.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { ClientChannel } from 'ssh2'
import type { Config } from '../../config/schema.ts'
import type { CurveAuthority } from '../curve-authority.ts'
import type { SandboxBoot } from '../../protocol/index.ts'
import type { Logger } from '../../telemetry/logger.ts'
import type { Launcher, SandboxHandle } from '../launcher.ts'
import { relayLines } from './log-relay.ts'
import { HostDownError, parseSshTarget, SshHost, type HostState, type SshHostOptions } from './ssh-host.ts'

export interface SshHostConfig {
  /** `user@host[:port]` */
  host: string
  /** Sandbox processes this host runs at most. */
  sandboxes: number
  /** Dispatcher endpoint as this host reaches it. Default: the sandbox endpoint, a wildcard address replaced by ours on this host's SSH connection. */
  endpoint?: string
}

export interface SshLauncherOptions {
  hosts: SshHostConfig[]
  /** Private key file the dispatcher logs in with. */
  keyPath: string
  knownHostsPath: string
  trustNewHosts?: boolean
  /** What the channel runs (a forced command on the host takes precedence). */
  command: string
  curve: CurveAuthority
  /** The process's logger: hosts log as component `ssh-host`, each sandbox's output lines and channel errors as `sandbox`. */
  log: Logger
  /** How long `close()` waits for sandboxes to exit after ending their stdin. Default 5 s. */
  closeTimeoutMs?: number
  /** Keepalive, handshake and reconnect timings (tests shorten them). */
  connection?: Pick<SshHostOptions, 'keepaliveIntervalMs' | 'keepaliveCountMax' | 'readyTimeoutMs' | 'backoffBaseMs' | 'backoffMaxMs'>
}

export interface SshHostStatus {
  host: string
  state: HostState
  since: string
  lastError: string | null
  sandboxes: number
  capacity: number
}

interface Placed {
  host: SshHost
  config: SshHostConfig
  live: Set<ClientChannel>
  /** Channels being opened: they count against the host's room already. */
  opening: number
}

type Exit = { code: number | null; signal: string | null; reason: string }

const PID_LINE = /^cellgate-sandbox pid (\d+)$/
const KILL_GRACE_MS = 2000

/**
 * @example
 *   const launcher = new SshLauncher({ hosts: [{ host: 'cellgate-sandbox@10.0.0.2', sandboxes: 4 }], keyPath, knownHostsPath,
 *     command: '/opt/cellgate/bin/cellgate-sandbox', curve: await CurveAuthority.start(log), log })
 *   const handle = await launcher.launch({ id: 'sb-1', endpoint: 'tcp://0.0.0.0:5556', slots: 2 })
 */
export class SshLauncher implements Launcher {
  readonly name = 'ssh'
  private readonly placed: Placed[]

  constructor(private readonly options: SshLauncherOptions) {
    if (options.hosts.length === 0) throw new Error('ssh launcher: no hosts')
    const privateKey = readFileSync(options.keyPath)
    this.placed = options.hosts.map((config) => ({
      config,
      live: new Set(),
      opening: 0,
      host: new SshHost(parseSshTarget(config.host), {
        ...options.connection,
        privateKey,
        knownHostsPath: options.knownHostsPath,
        trustNewHosts: options.trustNewHosts ?? false,
        log: options.log,
      }),
    }))
    for (const { host } of this.placed) host.start()
  }

  /** Sandboxes all hosts can run together: the pool's size. */
  get capacity(): number {
    return this.options.hosts.reduce((sum, host) => sum + host.sandboxes, 0)
  }

  hosts(): SshHostStatus[] {
    return this.placed.map(({ host, config, live }) => ({
      host: host.name,
      state: host.state,
      since: host.since.toISOString(),
      lastError: host.lastError,
      sandboxes: live.size,
      capacity: config.sandboxes,
    }))
  }

  onHostUp(listener: () => void): () => void {
    const onState = (host: SshHost): void => {
      if (host.state === 'up') listener()
    }
    for (const { host } of this.placed) host.on('state', onState)
    return () => {
      for (const { host } of this.placed) host.off('state', onState)
    }
  }

  async launch(boot: SandboxBoot): Promise<SandboxHandle> {
    const place = await this.choose()
    const { host } = place
    const keys = this.options.curve.issue(boot.id)
    let channel: ClientChannel
    try {
      channel = await host.exec(this.options.command)
    } catch (err) {
      this.options.curve.revoke(keys.publicKey)
      throw err
    } finally {
      place.opening--
    }
    place.live.add(channel)

    let exit: Omit<Exit, 'reason'> | null = null
    channel.on('exit', (code: number | null, signal?: string) => {
      // ssh2 names signals as Node does (SIGKILL).
      exit = { code: code ?? null, signal: signal ?? null }
    })
    const exited = new Promise<Exit>((resolve) => {
      channel.once('close', () => {
        place.live.delete(channel)
        this.options.curve.revoke(keys.publicKey)
        if (exit?.code != null) resolve({ ...exit, reason: `exited with code ${exit.code} on ${host.name}` })
        else if (exit?.signal) resolve({ ...exit, reason: `killed by ${exit.signal} on ${host.name}` })
        else resolve({ code: null, signal: null, reason: `SSH session to ${host.name} ended${host.state === 'up' ? '' : `: ${host.lastError ?? 'connection lost'}`}` })
      })
    })
    const log = this.options.log.child({ component: 'sandbox', sandboxId: boot.id, host: host.name })
    // A write on a channel the far end closed fails; the close itself is reported through `exited`.
    channel.on('error', (err: Error) => log.warn({ err }, 'sandbox channel error'))

    const endpoint = place.config.endpoint ?? remoteEndpoint(boot.endpoint, host.localAddress)
    channel.write(`${JSON.stringify({ ...boot, endpoint, curve: keys } satisfies SandboxBoot)}\n`)

    let pid: number | undefined
    let firstLine = true
    const consume = (line: string): boolean => {
      const match = firstLine ? PID_LINE.exec(line) : null
      firstLine = false
      if (match) pid = Number(match[1])
      return match !== null
    }
    relayLines(channel, log.child({ stream: 'stdout' }), { consume })
    relayLines(channel.stderr, log.child({ stream: 'stderr' }))

    return {
      id: boot.id,
      host: host.name,
      get pid() {
        return pid
      },
      exited,
      kill: () => void kill(host, channel, pid),
    }
  }

  /** Ends every sandbox's stdin, kills those still running after the timeout, then closes the connections. */
  async close(): Promise<void> {
    const timeoutMs = this.options.closeTimeoutMs ?? 5000
    const channels = this.placed.flatMap(({ live }) => [...live])
    await Promise.all(
      channels.map(async (channel) => {
        const closed = new Promise((resolve) => channel.once('close', resolve))
        channel.end()
        const timer = setTimeout(() => channel.close(), timeoutMs)
        await closed
        clearTimeout(timer)
      }),
    )
    await Promise.all(this.placed.map(({ host }) => host.close()))
  }

  /**
   * The up host with the most room, its place held (`opening`) until the
   * launch ends, so launches at once do not overfill a host: the choice and
   * the hold happen in one step. Waits for hosts still making their first
   * connection.
   */
  private async choose(): Promise<Placed> {
    for (;;) {
      const load = (place: Placed): number => (place.live.size + place.opening) / place.config.sandboxes
      const open = this.placed.filter((place) => place.host.state === 'up' && load(place) < 1).sort((a, b) => load(a) - load(b))
      if (open[0]) {
        open[0].opening++
        return open[0]
      }
      const connecting = this.placed.filter(({ host }) => host.state === 'connecting')
      if (connecting.length === 0) {
        const states = this.placed.map(({ host, live, config }) =>
          host.state === 'up' ? `${host.name} full (${live.size}/${config.sandboxes})` : `${host.name} ${host.state}: ${host.lastError ?? 'no answer'}`)
        throw new HostDownError(`no SSH host can take a sandbox now (${states.join('; ')})`)
      }
      // A connecting host settles (up or down) within its handshake timeout.
      await new Promise<void>((resolve) => {
        const settled = (): void => {
          for (const { host } of connecting) host.off('state', settled)
          resolve()
        }
        for (const { host } of connecting) host.on('state', settled)
      })
    }
  }
}

/**
 * The launcher's options from config: each host takes pool.size sandboxes
 * unless it says otherwise; known_hosts defaults to the dispatcher user's.
 *
 * @example
 *   if (config.ssh.hosts.length > 0) launcher = new SshLauncher(sshLauncherOptions(config, await CurveAuthority.start(log), log))
 */
export function sshLauncherOptions(config: Config, curve: CurveAuthority, log: Logger): SshLauncherOptions {
  const { ssh, pool } = config
  if (!ssh.keyPath) throw new Error('ssh launcher: no private key (CELLGATE_SSH_KEY)')
  return {
    hosts: ssh.hosts.map(({ host, sandboxes, endpoint }) => ({ host, sandboxes: sandboxes ?? pool.size, endpoint })),
    keyPath: expandHome(ssh.keyPath),
    knownHostsPath: expandHome(ssh.knownHostsPath ?? '~/.ssh/known_hosts'),
    trustNewHosts: ssh.trustNewHosts,
    command: ssh.sandboxCommand,
    curve,
    log,
  }
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path
}

/**
 * SIGKILLs the sandbox through a second channel (`kill -KILL PID`: OpenSSH
 * sends no signal requests to forced commands, and the sandbox command
 * serves this one), then closes its channel: its stdin ends as well, which
 * is enough for a sandbox still listening, and all there is when the pid is
 * not known yet or the connection is gone.
 */
async function kill(host: SshHost, channel: ClientChannel, pid: number | undefined): Promise<void> {
  if (pid !== undefined && host.state === 'up') {
    try {
      const killer = await host.exec(`kill -KILL ${pid}`)
      killer.resume()
      killer.stderr.resume()
      await new Promise((resolve) => killer.once('close', resolve))
      // The channel closes by itself once sshd has seen the process die, telling how it ended; closing it is the fallback.
      setTimeout(() => channel.close(), KILL_GRACE_MS).unref()
      return
    } catch {
      // the connection went away: the channel below is closed already
    }
  }
  channel.close()
}

/**
 * The sandbox endpoint as a host reaches it: a wildcard bind address becomes
 * our address on that host's SSH connection; any other address stays.
 *
 * @example
 *   remoteEndpoint('tcp://0.0.0.0:5556', '10.213.1.1') // 'tcp://10.213.1.1:5556'
 */
export function remoteEndpoint(endpoint: string, localAddress: string | null): string {
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)
  if (!match) throw new Error(`ssh launcher: sandboxes on other hosts connect over tcp, not ${endpoint}`)
  const [, address, port] = match
  if (address !== '0.0.0.0' && address !== '*' && address !== '[::]') return endpoint
  if (!localAddress) throw new HostDownError('ssh launcher: no connection to tell our address by')
  const plain = localAddress.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1')
  return `tcp://${plain.includes(':') ? `[${plain}]` : plain}:${port}`
}
