/**
 * Starts a whole cellgate (server + dispatcher with its local pool) as
 * separate processes, watches them and restarts one that dies. Used by
 * `cellgate all`, by the end-to-end tests and by the benchmarks, so all
 * three run the system the same way. The children log to their own
 * stdout/stderr (inherited by default); this process logs only restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../telemetry/logger.ts'
import { nodeCommand } from './node-command.ts'

export interface ClusterOptions {
  /** Environment for both processes (PORT, CELLGATE_* …), on top of process.env. */
  env: Record<string, string>
  /** Restart a process that exits unexpectedly (default true). */
  supervise?: boolean
  /** Where the children's output goes (default: inherited). */
  stdio?: 'inherit' | 'ignore'
  /** This process's logger, told of each restart (as component `cluster`); without one, restarts are silent. */
  log?: Logger
}

export interface ManagedProcess {
  readonly role: 'server' | 'dispatcher'
  readonly pid: number | undefined
  /** Ends the process with the signal and waits until it has exited; it is not restarted. */
  stop(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again after stop(). */
  start(): void
}

export interface Cluster {
  readonly url: string
  readonly server: ManagedProcess
  readonly dispatcher: ManagedProcess
  /** Resolves when GET /api/v1/health answers 200 (store and dispatcher up, a sandbox ready). */
  healthy(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/**
 * @example
 *   const cluster = startCluster({ env: { PORT: '8080' } })
 *   await cluster.healthy()
 *   console.log(cluster.url)
 */
export function startCluster(options: ClusterOptions): Cluster {
  const env = { ...process.env, ...options.env }
  const host = env.HOST ?? '127.0.0.1'
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT ?? '8080'}`
  const dispatcher = startProcess('dispatcher', env, options)
  const server = startProcess('server', env, options)

  return {
    url,
    server,
    dispatcher,
    healthy: (timeoutMs = 60_000) => waitHealthy(url, timeoutMs, () => {
      const gone = [server, dispatcher].find((p) => p.pid === undefined)
      return gone && `the ${gone.role} process exited`
    }),
    async close() {
      await Promise.all([server.stop('SIGTERM'), dispatcher.stop('SIGTERM')])
    },
  }
}

/**
 * Resolves when GET {url}/api/v1/health answers 200; throws with the last
 * answer after timeoutMs, or at once when `broken` names a reason to stop.
 */
export async function waitHealthy(url: string, timeoutMs = 60_000, broken: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    const reason = broken()
    if (reason) throw new Error(`cellgate at ${url} cannot become healthy: ${reason}`)
    try {
      const res = await fetch(`${url}/api/v1/health`)
      if (res.status === 200) return
      last = `${res.status} ${await res.text()}`
    } catch (err) {
      last = (err as Error).message
    }
    await sleep(100)
  }
  throw new Error(`cellgate at ${url} not healthy after ${timeoutMs} ms: ${last}`)
}

/**
 * Starts one cellgate process (e.g. a second web instance beside a cluster) and watches it.
 *
 * @example
 *   const second = startProcess('server', { ...process.env, PORT: '8081' }, { env: {} })
 */
export function startProcess(role: 'server' | 'dispatcher', env: NodeJS.ProcessEnv, options: Omit<ClusterOptions, 'env'>): ManagedProcess {
  let child: ChildProcess | undefined
  let wanted = false
  let failures = 0
  const log = options.log?.child({ component: 'cluster', role })

  const start = () => {
    wanted = true
    const [cmd, args] = nodeCommand(role)
    const startedAt = Date.now()
    const proc = spawn(cmd, args, { env, stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'] })
    child = proc
    proc.on('exit', (code, signal) => {
      if (child !== proc) return
      child = undefined
      if (!wanted || options.supervise === false) return
      // A process that keeps dying at start is restarted ever more slowly, up to 10 s apart.
      failures = Date.now() - startedAt < 5_000 ? failures + 1 : 0
      const delay = Math.min(10_000, 200 * 2 ** failures)
      log?.warn({ code, signal, restartInMs: delay }, 'process exited; restarting it')
      setTimeout(() => wanted && !child && start(), delay).unref()
    })
  }

  start()
  return {
    role,
    get pid() {
      return child?.pid
    },
    start,
    async stop(signal = 'SIGTERM') {
      wanted = false
      const proc = child
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
      proc.kill(signal)
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
