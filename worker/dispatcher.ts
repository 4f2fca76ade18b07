/**
 * The dispatcher process's core: binds the two ROUTER sockets (servers on
 * config.dispatcher.endpoint, sandboxes on config.dispatcher.sandboxEndpoint),
 * keeps the sandbox pool through the Launcher it is given, and wires the
 * links to the scheduler. Everything it knows lives in memory; a restarted
 * dispatcher has a new bootId, which tells servers that its jobs are gone.
 *
 *   server DEALER ──> ROUTER [server-link] ─┐
 *                                           scheduler + pool ── Launcher ──> sandbox processes
 *   sandbox DEALER ─> ROUTER [sandbox-link] ┘
 *   Prometheus ─GET─> http [metrics-server] ── registry (metrics.ts)
 *
 * The logger and the metrics registry are the process's, passed in
 * (worker/main.ts makes them), so tests read what it counted.
 */
import { randomBytes } from 'node:crypto'
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import { Router } from 'zeromq'
import type { Config } from '../config/schema.ts'
import type { PoolState } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { CurveAuthority } from './curve-authority.ts'
import { Drops } from './drops.ts'
import type { Launcher } from './launcher.ts'
import { serveMetrics, type MetricsServer } from './metrics-server.ts'
import { DispatcherMetrics } from './metrics.ts'
import { Outbox } from './outbox.ts'
import { Pool } from './pool.ts'
import { SandboxLink } from './sandbox-link.ts'
import { Scheduler } from './scheduler.ts'
import { ServerLink } from './server-link.ts'
import { workersReport } from './workers-report.ts'

export interface Dispatcher {
  /** New per dispatcher process; servers see it in welcome and started. */
  readonly bootId: string
  /**
   * Where it listens, ports resolved (an endpoint configured as tcp://127.0.0.1:* gets its real port here,
   * metrics port 0 the one it took): ZeroMQ endpoints for servers and sandboxes, the URL of GET /metrics.
   */
  readonly endpoints: { server: string; sandbox: string; metrics: string }
  readonly pool: Pool
  state(): PoolState
  /** Kills the sandboxes, closes the sockets and the metrics endpoint. The launcher stays open: its owner closes it. */
  close(): Promise<void>
}

export interface DispatcherOptions {
  /** The process's logger; each component logs through a child naming it. */
  log: Logger
  /** The process's metrics registry; the dispatcher's series (metrics.ts) are registered on it and served at endpoints.metrics. */
  registry: Registry
  /** Sandboxes connect with CURVE, accepted only with keys this authority issued (SSH launcher). Without: plain TCP, for loopback. */
  curve?: CurveAuthority
  /** Sandbox processes kept; default config.pool.size (the SSH launcher's is the sum of its hosts' sandboxes). */
  poolSize?: number
  /** Passed to the pool: first delay before a failed launch is tried again (default 200 ms, doubling). */
  retryBaseMs?: number
}

/**
 * @example
 *   const log = createLogger('dispatcher', config.log)
 *   const launcher = new LocalLauncher({ log })
 *   const dispatcher = await startDispatcher(config, launcher, { log, registry: createRegistry('dispatcher') })
 *   dispatcher.endpoints // { server: 'tcp://127.0.0.1:5555', sandbox: 'tcp://127.0.0.1:5556', metrics: 'http://127.0.0.1:9464/metrics' }
 *   await dispatcher.close(); await launcher.close()
 */
export async function startDispatcher(config: Config, launcher: Launcher, options: DispatcherOptions): Promise<Dispatcher> {
  const log = options.log.child({ component: 'dispatcher' })
  const bootId = randomBytes(12).toString('base64url')

  // Unacked messages are kept in the job ledgers anyway: a high water mark would only drop them.
  const serverSocket = new Router({ handover: true, sendHighWaterMark: 0, linger: 0 })
  // Mandatory + no wait: a run or cancel that cannot reach its sandbox fails at once, and the sandbox is replaced.
  const sandboxSocket = new Router({ ...options.curve?.serverOptions(), mandatory: true, sendTimeout: 0, linger: 0 })
  try {
    await serverSocket.bind(config.dispatcher.endpoint)
    await sandboxSocket.bind(config.dispatcher.sandboxEndpoint)
  } catch (err) {
    serverSocket.close()
    sandboxSocket.close()
    throw err
  }
  let metricsServer: MetricsServer
  try {
    metricsServer = await serveMetrics(options.registry, config.dispatcher.metricsHost, config.dispatcher.metricsPort)
  } catch (err) {
    serverSocket.close()
    sandboxSocket.close()
    throw err
  }
  const endpoints = { server: serverSocket.lastEndpoint!, sandbox: sandboxSocket.lastEndpoint!, metrics: metricsServer.url }

  const metrics: DispatcherMetrics = new DispatcherMetrics(options.registry, { queued: () => scheduler.queuedByPriority(), sandboxes: () => pool.list() })
  const drops = new Drops(options.log, metrics)
  const pool: Pool = new Pool(
    launcher,
    {
      size: options.poolSize ?? config.pool.size,
      slots: config.pool.slots,
      endpoint: endpoints.sandbox,
      startTimeoutMs: config.pool.startTimeoutMs,
      retryBaseMs: options.retryBaseMs,
      log: options.log,
    },
    {
      onRetired: (sandbox, reason) => scheduler.sandboxRetired(sandbox, reason),
      onFree: () => scheduler.pump(),
    },
  )
  const toSandboxes = new Outbox(sandboxSocket, {
    route: (id) => {
      const sandbox = pool.get(id)
      return sandbox && sandbox.retired === null ? sandbox.routingId : undefined
    },
    onSendError: (id, err) => {
      const sandbox = pool.get(id)
      if (sandbox) pool.retire(sandbox, `unreachable: ${err.message}`)
    },
  })
  const toServers = new Outbox(serverSocket, {
    route: (serverId) => serverLink.route(serverId),
    onSendError: (serverId, err) => log.warn({ serverId, err }, 'send to server failed'),
  })
  const scheduler: Scheduler = new Scheduler({
    bootId,
    graceMs: config.dispatcher.graceMs,
    pool,
    toServer: (serverId, frame) => toServers.push(serverId, frame),
    toSandbox: (sandbox, frame) => toSandboxes.push(sandbox.id, frame),
    metrics,
    log: options.log,
  })
  const state = (): PoolState => pool.state(scheduler.queued)
  const serverLink: ServerLink = new ServerLink({
    bootId,
    scheduler,
    poolState: state,
    workers: () => workersReport(pool, launcher),
    send: (id, frame) => toServers.push(id, frame),
    drops,
    log: options.log,
  })
  const sandboxLink = new SandboxLink(pool, scheduler, drops)

  const loops = [receiveLoop(serverSocket, (parts) => serverLink.receive(parts), log), receiveLoop(sandboxSocket, (parts) => sandboxLink.receive(parts), log)]
  pool.fill()
  // A host back up takes sandboxes now, not after the pool's retry backoff (up to 10 s).
  const stopHostUp = launcher.onHostUp?.(() => pool.retryNow())

  let closing: Promise<void> | null = null
  return {
    bootId,
    endpoints,
    pool,
    state,
    close: () =>
      (closing ??= (async () => {
        stopHostUp?.()
        scheduler.close()
        await pool.close()
        await toServers.drain()
        toServers.close()
        toSandboxes.close()
        serverSocket.close()
        sandboxSocket.close()
        await Promise.all([...loops, metricsServer.close()])
      })()),
  }
}

/**
 * Reads messages until the socket closes. Yields to the event loop every few
 * messages: ZeroMQ hands over queued messages without waiting, and a flood
 * on one socket must not starve timers, the other socket or the outboxes.
 */
async function receiveLoop(socket: Router, handle: (parts: Buffer[]) => void, log: Logger): Promise<void> {
  let n = 0
  try {
    for await (const parts of socket) {
      try {
        handle(parts)
      } catch (err) {
        log.error({ err }, 'error handling a message')
      }
      if (++n % 64 === 0) await nextMacrotask()
    }
  } catch (err) {
    if (!socket.closed) log.error({ err }, 'receive loop ended')
  }
}
