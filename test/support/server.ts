/**
 * The web tier in-process for `app.request()` tests: the real app and
 * services over a real SQLite store in a temporary directory, with a
 * dispatcher link without sockets that the test plays the dispatcher on.
 */
import { join } from 'node:path'
import type { Config } from '../../config/schema.ts'
import { silentLogger } from '../../telemetry/logger.ts'
import type { DispatcherMessage, PoolState, ServerMessage, WorkersReport } from '../../protocol/index.ts'
import { Registry } from 'prom-client'
import { createApp, type AppOptions } from '../../server/app.ts'
import type { Caller } from '../../server/caller.ts'
import { firstStart } from '../../server/principals/first-start.ts'
import { anonymousPrincipal } from '../../server/principals/principal.ts'
import type { DispatcherLink, DispatcherState } from '../../server/dispatcher-link.ts'
import { EventHub } from '../../server/event-hub.ts'
import type { JobService } from '../../server/jobs.ts'
import { ServerMetrics } from '../../server/metrics.ts'
import { createServices, type Services } from '../../server/services.ts'
import type { SessionService } from '../../server/sessions.ts'
import { guardStore } from '../../server/store/guard.ts'
import { SqliteStore } from '../../server/store/sqlite.ts'
import { testConfig, type TestConfigInput } from './config.ts'
import { tempDir } from './temp-dir.ts'

/** Who calls services in tests that call them directly. */
export const TEST_CALLER: Caller = { client: '127.0.0.1', origin: null, principal: anonymousPrincipal('run') }

/**
 * A dispatcher link that keeps what the server sends and lets the test
 * play the dispatcher by calling `deliver`.
 */
export class RecordingLink implements DispatcherLink {
  readonly sent: ServerMessage[] = []
  /** What requestWorkers answers (null: as a dispatcher that does not answer). */
  workers: WorkersReport | null = null
  private handler: (messages: DispatcherMessage[]) => void = () => {}
  private welcome: { bootId: string; pool: PoolState } | null = null

  start(): void {}
  send(messages: readonly ServerMessage[]): void {
    this.sent.push(...messages)
  }
  onMessages(handler: (messages: DispatcherMessage[]) => void): void {
    this.handler = handler
  }
  deliver(messages: DispatcherMessage[]): void {
    for (const m of messages) if (m.type === 'welcome') this.welcome = { bootId: m.bootId, pool: m.pool }
    this.handler(messages)
  }
  state(): DispatcherState {
    return this.welcome
      ? { connected: true, bootId: this.welcome.bootId, lastSeenMs: 0, pool: this.welcome.pool }
      : { connected: false, bootId: null, lastSeenMs: null, pool: null }
  }
  async requestWorkers(): Promise<WorkersReport | null> {
    return this.workers
  }
  async close(): Promise<void> {}
}

export interface InProcessServer {
  app: ReturnType<typeof createApp>
  services: Services
  /** services.jobs and services.sessions, which most tests call. */
  jobs: JobService
  sessions: SessionService
  hub: EventHub
  /** Its registry holds the server's metrics only (no process metrics). */
  metrics: ServerMetrics
  link: RecordingLink
  store: SqliteStore
  config: Config
  close(): Promise<void>
}

/**
 * The app over a real SQLite store in a temporary directory and a
 * RecordingLink, for `app.request()` tests.
 */
export async function inProcessServer(
  overrides: TestConfigInput = {},
  appOptions: Partial<AppOptions> = {},
): Promise<InProcessServer> {
  const tmp = tempDir('cellgate-server-')
  const config = testConfig({ ...overrides, server: { dataDir: tmp.dir, ...overrides.server } })
  const store = new SqliteStore(join(tmp.dir, 'data'))
  await store.open()
  const link = new RecordingLink()
  const logger = appOptions.logger ?? silentLogger()
  const hub = new EventHub(logger)
  const metrics = new ServerMetrics(new Registry(), link)
  await firstStart(store, { bootstrapKey: config.auth.bootstrapKey, url: 'http://127.0.0.1/' }, logger)
  const services = createServices({ store: guardStore(store), link, hub, config, logger, metrics })
  const app = createApp({ services, server: config.server, logger, metrics, webRoot: join(tmp.dir, 'no-web-build'), ...appOptions })
  return {
    app, services, jobs: services.jobs, sessions: services.sessions, hub, metrics, link, store, config,
    close: async () => {
      await services.jobs.close()
      await store.close()
      tmp.remove()
    },
  }
}
