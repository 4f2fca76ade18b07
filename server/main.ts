/**
 * Starts the web tier: the store, the HTTP server, the link to the
 * dispatcher, recovery and the sweep; and stops them in the reverse order.
 * End-to-end tests call startServer with a config; the CLI (`cellgate
 * server`) calls it too and stops it on SIGTERM/SIGINT.
 */
import { hostname } from 'node:os'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Config } from '../config/schema.ts'
import type { Registry } from 'prom-client'
import { createLogger, type Logger } from '../telemetry/logger.ts'
import { createRegistry } from '../telemetry/metrics.ts'
import { createApp } from './app.ts'
import { ZmqDispatcherLink, type DispatcherLink } from './dispatcher-link.ts'
import { EventHub } from './event-hub.ts'
import { startSweep } from './job-recovery.ts'
import { firstStart } from './principals/first-start.ts'
import { sweepRetention } from './retention.ts'
import { ServerMetrics } from './metrics.ts'
import { createServices, type Services } from './services.ts'
import { guardStore } from './store/guard.ts'
import { storeFor } from './store/open-store.ts'
import type { Store } from './store/port.ts'

export interface StartServerOptions {
  /** Another store (default: as configured, see store/open-store.ts). Opened and closed by the server. */
  store?: Store
  /** Another dispatcher link (default: ZeroMQ DEALER to config.dispatcher.endpoint). Closed by the server. */
  link?: DispatcherLink
  /** The built web client (default dist/web). */
  webRoot?: string
  /** The process's logger (default: JSON lines on stdout at config.log.level); tests pass silentLogger(). */
  logger?: Logger
  /** The process's metrics registry (default: a new one with the process's own metrics). */
  registry?: Registry
}

export interface RunningServer {
  url: string
  port: number
  serverId: string
  services: Services
  /** The parts the services share, for tests that look behind the API. */
  store: Store
  link: DispatcherLink
  hub: EventHub
  metrics: ServerMetrics
  close(): Promise<void>
}

/**
 * @example
 *   const server = await startServer(loadConfig(process.env))
 *   // cellgate server listening on http://127.0.0.1:8080 …
 *   await server.close()
 */
export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger('server', config.log)
  const store = guardStore(options.store ?? storeFor(config))
  await store.open()

  // The server id may need the port, which is only known once listening (port 0);
  // until the app exists (within the same tick) requests get a 503.
  const ready: { app?: ReturnType<typeof createApp> } = {}
  const http = serve({
    fetch: (request, env) => ready.app ? ready.app.fetch(request, env) : new Response('starting', { status: 503 }),
    port: config.server.port,
    hostname: config.server.host,
  })
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('listening', resolve)
      http.once('error', reject)
    })
  } catch (err) {
    await store.close()
    throw err
  }
  const port = (http.address() as AddressInfo).port
  const serverId = config.server.id ?? `${hostname()}:${port}`

  const link = options.link ?? new ZmqDispatcherLink({
    endpoint: config.dispatcher.endpoint,
    serverId,
    helloIntervalMs: config.server.helloIntervalMs,
    requestTimeoutMs: config.server.dispatcherRequestTimeoutMs,
    logger: logger.child({ component: 'dispatcher-link' }),
  })
  const hub = new EventHub(logger.child({ component: 'events' }))
  const metrics = new ServerMetrics(options.registry ?? createRegistry('server'), link)
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  const url = `http://${host}:${port}`
  await firstStart(store, { bootstrapKey: config.auth.bootstrapKey, url: `${url}/` }, logger.child({ component: 'auth' }))
  const services = createServices({ store, link, hub, config, logger, metrics })
  const { jobs, sessions, notebooks, logins } = services
  ready.app = createApp({ services, server: config.server, logger, metrics, webRoot: options.webRoot })
  link.start()
  const sweepLogger = logger.child({ component: 'sweep' })
  const stopSweep = startSweep(() => Promise.all([jobs.sweepStale(), sessions.expire(), notebooks.forgetRefilled(), logins.forgetRefilled()]), config.server.sweepIntervalMs, sweepLogger)
  // A loop of its own, so a long backlog of deletions never delays ending stale jobs and sessions.
  const stopRetention = startSweep(() => sweepRetention({ store, config, logger: sweepLogger }), config.server.sweepIntervalMs, sweepLogger)

  logger.info({ url, serverId, dispatcher: config.dispatcher.endpoint }, `cellgate server listening on ${url} (server id ${serverId}, dispatcher ${config.dispatcher.endpoint})`)

  let closing: Promise<void> | undefined
  const close = () => (closing ??= (async () => {
    stopSweep()
    stopRetention()
    await new Promise<void>((resolve) => {
      http.close(() => resolve())
      // Event streams stay open by design; they end with the server.
      if ('closeAllConnections' in http) http.closeAllConnections()
    })
    await jobs.close()
    await link.close()
    await store.close()
    logger.flush()
  })())

  return { url, port, serverId, services, store, link, hub, metrics, close }
}
