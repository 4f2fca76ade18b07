/**
 * The local launcher: sandbox processes as children of the dispatcher on
 * this machine, connecting back over loopback. The boot line goes to the
 * child's stdin, which then stays open: when the dispatcher dies, the pipe
 * closes and the sandbox exits, so no sandbox outlives its dispatcher.
 *
 * The child gets a minimal environment (no config, no credentials) and its
 * stdout/stderr go to the dispatcher's log through a bounded relay, as
 * component `sandbox` with its sandboxId.
 *
 * Run as root, each child is in a cgroup of its own with the memory and pids
 * bound of sandbox-bound.ts (cgroup.ts), entered the moment it is spawned,
 * before it gets its boot line: until then it only loads its code, and it
 * can run no cell before it has connected. A child the kernel's OOM killer
 * ends for going over its bound exits with a reason saying so, which its
 * jobs end with. Not root, or no memory controller: the children run
 * without an OS bound, as the one warning at the first launch says.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { SandboxBoot } from '../../protocol/index.ts'
import type { Logger } from '../../telemetry/logger.ts'
import type { Launcher, SandboxHandle } from '../launcher.ts'
import { machineHierarchy, SandboxCgroups, type Hierarchy, type ProcessBound } from './cgroup.ts'
import { relayLines } from './log-relay.ts'
import { DEFAULT_SIZING, sandboxBound, type BoundSizing } from './sandbox-bound.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SANDBOX_MAIN = fileURLToPath(new URL('../../sandbox/main.ts', import.meta.url))
/** What a sandbox may inherit from the dispatcher's environment; nothing else is passed. */
const INHERITED_ENV = ['PATH', 'LANG', 'TZ', 'TMPDIR'] as const

export interface LocalLauncherOptions {
  /** Script the child runs, absolute or relative to the repository root. Default: sandbox/main.ts. */
  entry?: string
  /** The process's logger: each child's output lines and process errors are logged as component `sandbox`. */
  log: Logger
  /** How long `close()` waits for children to exit after closing their stdin, before killing them. Default 5 s. */
  closeTimeoutMs?: number
  /** The OS bound on each child (boundSizing(config)). Default: DEFAULT_SIZING. */
  sizing?: BoundSizing
  /** Where the children's cgroups go, or why nowhere. Default: this machine's (machineHierarchy()). */
  hierarchy?: Hierarchy | string
}

type Exit = { code: number | null; signal: string | null; reason: string }

/**
 * @example
 *   const launcher = new LocalLauncher({ log })
 *   const handle = await launcher.launch({ id: 'sb-1', endpoint: 'tcp://127.0.0.1:5556', slots: 2 })
 *   handle.kill(); await handle.exited
 */
export class LocalLauncher implements Launcher {
  readonly name = 'local'
  /** Each running child, and its exit as `exited` reports it (once its cgroup is gone). */
  private readonly children = new Map<ChildProcess, Promise<Exit>>()
  /** Opened at the first launch; null when the children run without an OS bound. */
  private cgroups: SandboxCgroups | null | undefined

  constructor(private readonly options: LocalLauncherOptions) {}

  async launch(boot: SandboxBoot): Promise<SandboxHandle> {
    const line = `${JSON.stringify({ ...boot, endpoint: loopbackEndpoint(boot.endpoint) })}\n`
    const bound = sandboxBound(boot.slots, this.options.sizing ?? DEFAULT_SIZING)
    const cgroup = this.openCgroups()?.create(boot.id, bound) ?? null
    const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', this.options.entry ?? SANDBOX_MAIN], {
      cwd: REPO_ROOT,
      env: sandboxEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const log = this.options.log.child({ component: 'sandbox', sandboxId: boot.id })
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.children.delete(child)
        const overBound = cgroup?.oomKilled() ?? false
        const exit = { code, signal, reason: exitReason(code, signal, overBound ? bound : null) }
        if (!cgroup) return resolve(exit)
        cgroup.remove().catch((err: unknown) => log.warn({ err }, 'sandbox cgroup not removed')).finally(() => resolve(exit))
      })
    })
    this.children.set(child, exited)
    try {
      // spawn() returns once the child has exec'd: it is in its cgroup before it has loaded anything.
      if (cgroup && child.pid !== undefined) cgroup.enter(child.pid)
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve)
        child.once('error', reject)
      })
    } catch (err) {
      this.children.delete(child)
      child.kill('SIGKILL')
      // A child that never started has no exit to remove its cgroup at; the error that matters is this one.
      if (child.pid === undefined) cgroup?.remove().catch(() => {})
      throw err
    }
    child.on('error', (err) => log.error({ err }, 'sandbox process error'))
    // EPIPE when the child dies first is expected: its exit is reported through `exited`.
    child.stdin!.on('error', () => {})
    child.stdin!.write(line)
    relayLines(child.stdout!, log.child({ stream: 'stdout' }))
    relayLines(child.stderr!, log.child({ stream: 'stderr' }))

    return {
      id: boot.id,
      host: 'local',
      pid: child.pid,
      exited,
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      },
    }
  }

  /** Closes every child's stdin (the sandbox's signal to exit) and kills those still running after the timeout. */
  async close(): Promise<void> {
    const timeoutMs = this.options.closeTimeoutMs ?? 5000
    await Promise.all(
      [...this.children].map(async ([child, exited]) => {
        child.stdin?.end()
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        await exited
        clearTimeout(timer)
      }),
    )
    this.cgroups?.close()
  }

  private openCgroups(): SandboxCgroups | null {
    if (this.cgroups !== undefined) return this.cgroups
    const log = this.options.log.child({ component: 'launcher' })
    const hierarchy = process.getuid?.() === 0 ? (this.options.hierarchy ?? machineHierarchy()) : 'not root'
    let why = typeof hierarchy === 'string' ? hierarchy : ''
    if (typeof hierarchy !== 'string') {
      try {
        this.cgroups = new SandboxCgroups(hierarchy)
        log.info({ cgroup: `v${hierarchy.version}` }, 'sandbox processes each run in a cgroup of their own with a memory and pids bound')
        return this.cgroups
      } catch (err) {
        why = (err as Error).message
      }
    }
    log.warn({ reason: why }, 'sandbox processes run without an OS memory bound: memory a cell holds outside what its isolate counts is bounded only by the host\'s, and a sandbox that takes it all can bring the host down')
    this.cgroups = null
    return null
  }
}

/** How the child ended; the reason its running jobs end `lost` with. */
function exitReason(code: number | null, signal: string | null, overBound: ProcessBound | null): string {
  if (overBound) return `killed by ${signal ?? 'the kernel'}: it went over its memory bound of ${overBound.memoryBytes / 2 ** 20} MB (the OS killed it out of memory)`
  return code !== null ? `exited with code ${code}` : `killed by ${signal}`
}

function sandboxEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]
  return env
}

/**
 * A local sandbox reaches the dispatcher over loopback: a wildcard bind
 * address becomes 127.0.0.1, and any other host is refused (sandboxes on
 * other hosts are the SSH launcher's job).
 */
export function loopbackEndpoint(endpoint: string): string {
  if (endpoint.startsWith('ipc://')) return endpoint
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint)
  if (!match) throw new Error(`local launcher: cannot read endpoint ${endpoint}`)
  const [, host, port] = match
  if (host === '0.0.0.0' || host === '*' || host === '[::]') return `tcp://127.0.0.1:${port}`
  if (host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host!)) return endpoint
  throw new Error(`local launcher: sandboxes connect over loopback only, not to ${endpoint}`)
}
