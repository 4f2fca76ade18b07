/**
 * Helpers shared by the server's tests: a config with a temporary data
 * directory, a logger whose records a test can read, a dispatcher link
 * without sockets for in-process route tests, and a reader of Server-Sent
 * Events responses.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configSchema, type Config } from '../config/schema.ts'
import { createLogger, silentLogger, type Logger } from '../telemetry/logger.ts'
import type { DispatcherMessage, PoolState, ServerMessage, WorkersReport } from '../protocol/index.ts'
import { createParser } from 'eventsource-parser'
import { Registry } from 'prom-client'
import { createApp, type AppOptions } from './app.ts'
import type { Caller } from './caller.ts'
import type { DispatcherLink, DispatcherState } from './dispatcher-link.ts'
import { EventHub } from './event-hub.ts'
import type { JobService } from './jobs.ts'
import { ServerMetrics } from './metrics.ts'
import { createServices, type Services } from './services.ts'
import type { SessionService } from './sessions.ts'
import { guardStore } from './store/guard.ts'
import { SqliteStore } from './store/sqlite.ts'

/** A temporary directory and a function that removes it. */
export function tempDir(prefix = 'cellgate-server-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A full config for tests: port 0 on loopback, data in `dataDir`. */
export function testConfig(dataDir: string, overrides: { server?: object; dispatcher?: object; limits?: object; sessions?: object } = {}): Config {
  return configSchema.parse({
    server: { port: 0, host: '127.0.0.1', dataDir, ...overrides.server },
    dispatcher: { ...overrides.dispatcher },
    limits: { ...overrides.limits },
    sessions: { ...overrides.sessions },
  })
}

/** Who calls services in tests that call them directly. */
export const TEST_CALLER: Caller = { client: '127.0.0.1' }

/** One record as pino wrote it: its fields, `level` as a number, `msg`. */
export type LogRecord = Record<string, unknown> & { level: number; msg: string }

/**
 * A logger (at debug) that keeps every record it writes, for tests that
 * check what was logged.
 *
 * @example
 *   const { logger, records } = capturingLogger()
 *   logger.warn({ job: 'a' }, 'oops') // records: [{ level: 40, job: 'a', msg: 'oops', … }]
 */
export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = []
  const logger = createLogger('test', { level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) })
  return { logger, records }
}

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
  overrides: Parameters<typeof testConfig>[1] = {},
  appOptions: Partial<AppOptions> = {},
): Promise<InProcessServer> {
  const tmp = tempDir()
  const config = testConfig(tmp.dir, overrides)
  const store = new SqliteStore(join(tmp.dir, 'data'))
  await store.open()
  const link = new RecordingLink()
  const logger = appOptions.logger ?? silentLogger()
  const hub = new EventHub(logger)
  const metrics = new ServerMetrics(new Registry(), link)
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

export interface SseEvent {
  event: string
  id?: string
  data: string
}

/**
 * Reads a Server-Sent Events response (also one from `app.request()`, which
 * test/support/sse.ts cannot take) until it ends or `until` says stop.
 *
 * @example
 *   const events = await readSse(await app.request(`/api/v1/cells/${id}/events`))
 */
export async function readSse(response: Response, until: (event: SseEvent) => boolean = () => false): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  let stop = false
  const parser = createParser({
    onEvent: (message) => {
      if (stop) return
      const event: SseEvent = { event: message.event ?? 'message', data: message.data }
      if (message.id !== undefined) event.id = message.id
      events.push(event)
      stop = until(event)
    },
  })
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  try {
    while (!stop) {
      const { done, value } = await reader.read()
      if (done) break
      parser.feed(value)
    }
    return events
  } finally {
    await reader.cancel().catch(() => {})
  }
}
