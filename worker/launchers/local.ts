/**
 * The local launcher: sandbox processes as children of the dispatcher on
 * this machine, connecting back over loopback. The boot line goes to the
 * child's stdin, which then stays open: when the dispatcher dies, the pipe
 * closes and the sandbox exits, so no sandbox outlives its dispatcher.
 *
 * The child gets a minimal environment (no config, no credentials) and its
 * stdout/stderr go to the dispatcher's log through a bounded relay, as
 * component `sandbox` with its sandboxId.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { SandboxBoot } from '../../protocol/index.ts'
import type { Logger } from '../../telemetry/logger.ts'
import type { Launcher, SandboxHandle } from '../launcher.ts'
import { relayLines } from './log-relay.ts'

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
}

/**
 * @example
 *   const launcher = new LocalLauncher({ log })
 *   const handle = await launcher.launch({ id: 'sb-1', endpoint: 'tcp://127.0.0.1:5556', slots: 2 })
 *   handle.kill(); await handle.exited
 */
export class LocalLauncher implements Launcher {
  readonly name = 'local'
  private readonly children = new Set<ChildProcess>()

  constructor(private readonly options: LocalLauncherOptions) {}

  async launch(boot: SandboxBoot): Promise<SandboxHandle> {
    const line = `${JSON.stringify({ ...boot, endpoint: loopbackEndpoint(boot.endpoint) })}\n`
    const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', this.options.entry ?? SANDBOX_MAIN], {
      cwd: REPO_ROOT,
      env: sandboxEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.children.add(child)
    const exited = new Promise<{ code: number | null; signal: string | null; reason: string }>((resolve) => {
      child.once('exit', (code, signal) => {
        this.children.delete(child)
        resolve({ code, signal, reason: code !== null ? `exited with code ${code}` : `killed by ${signal}` })
      })
    })
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve)
        child.once('error', reject)
      })
    } catch (err) {
      this.children.delete(child)
      throw err
    }
    const log = this.options.log.child({ component: 'sandbox', sandboxId: boot.id })
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
      [...this.children].map(async (child) => {
        const exit = new Promise((resolve) => child.once('exit', resolve))
        child.stdin?.end()
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        await exit
        clearTimeout(timer)
      }),
    )
  }
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
