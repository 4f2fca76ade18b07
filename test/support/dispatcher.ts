/**
 * Test support: a real ZeroMQ DEALER playing the web server against a real
 * dispatcher, and a dispatcher started on free loopback ports. Everything
 * the dispatcher sends is validated and kept, in arrival order, so a test
 * can wait for a message and then assert on the whole sequence.
 *
 *   TestServer DEALER (routing id)  ──hello/submit/cancel/ack/workers──>  dispatcher ROUTER
 *                                   <──welcome/started/output/end/workers──
 */
import { Registry } from 'prom-client'
import { Dealer } from 'zeromq'
import type { Config } from '../../config/schema.ts'
import { decode, dispatcherMessageSchema, encode, type DispatcherMessage, type MessageOf, type ServerMessage } from '../../protocol/index.ts'
import { silentLogger } from '../../telemetry/logger.ts'
import { metricValue } from '../../telemetry/metrics.ts'
import { startDispatcher, type Dispatcher, type DispatcherOptions } from '../../worker/dispatcher.ts'
import type { Launcher } from '../../worker/launcher.ts'
import { testConfig } from './config.ts'
import { Inbox } from './inbox.ts'
import { ScriptedLauncher } from './scripted-launcher.ts'

export interface TestDispatcherConfig {
  pool?: Partial<Config['pool']>
  /** Default 2 s. */
  graceMs?: number
  /** Default: a free loopback port. */
  sandboxEndpoint?: string
  /** Where servers connect; default: a free loopback port (a fixed one to restart a dispatcher where its servers look). */
  endpoint?: string
}

/**
 * A dispatcher on free loopback ports (one sandbox of one slot unless the
 * pool says otherwise), logging nowhere, with a registry of its own, unless
 * the test passes the ones it reads.
 */
export function startTestDispatcher(launcher: Launcher, overrides: TestDispatcherConfig = {}, options: Partial<DispatcherOptions> = {}): Promise<Dispatcher> {
  const config = testConfig({
    dispatcher: { endpoint: overrides.endpoint ?? 'tcp://127.0.0.1:*', sandboxEndpoint: overrides.sandboxEndpoint ?? 'tcp://127.0.0.1:*', graceMs: overrides.graceMs ?? 2000 },
    pool: { size: 1, slots: 1, ...overrides.pool },
  })
  return startDispatcher(config, launcher, { log: silentLogger(), registry: new Registry(), ...options })
}

export interface ScriptedDispatcher {
  launcher: ScriptedLauncher
  dispatcher: Dispatcher
  server: TestServer
  /** A series of the dispatcher's registry now (metricValue). */
  metric(series: string, labels?: Record<string, string>): Promise<number>
  close(): Promise<void>
}

/**
 * A dispatcher with scripted sandboxes (autoCredit unless told otherwise),
 * a registry the test reads, and a TestServer connected to it.
 *
 * @example
 *   const { launcher, server, metric } = await startScriptedDispatcher({ size: 2, slots: 1 })
 *   await metric('cellgate_dispatcher_jobs_ended_total', { status: 'done' }) // 0
 */
export async function startScriptedDispatcher(pool: Partial<Config['pool']> = {}, launcherOptions: { autoCredit?: boolean } = {}): Promise<ScriptedDispatcher> {
  const launcher = new ScriptedLauncher(launcherOptions)
  const registry = new Registry()
  const dispatcher = await startTestDispatcher(launcher, { pool }, { registry })
  const server = await TestServer.connect(dispatcher.endpoints.server)
  return {
    launcher,
    dispatcher,
    server,
    metric: (series, labels) => metricValue(registry, series, labels),
    close: async () => {
      server.close()
      await dispatcher.close()
    },
  }
}

/** The messages about one job (all but welcome and replies to requests). */
type JobMessage = Exclude<DispatcherMessage, { type: 'welcome' | 'workersReport' | 'sessionEnded' }>

let requestCounter = 0

export class TestServer {
  /** Frames per ZeroMQ message received, to see how the dispatcher batched them. */
  readonly batchSizes: number[] = []
  private readonly inbox = new Inbox<DispatcherMessage>()
  private readonly dealer: Dealer

  private constructor(endpoint: string, readonly serverId: string, routingId: string) {
    this.dealer = new Dealer({ routingId, linger: 0 })
    this.dealer.connect(endpoint)
    void this.readLoop()
  }

  /** Connects and says hello; resolves on the welcome. */
  static async connect(endpoint: string, options: { serverId?: string; bootId?: string; routingId?: string } = {}): Promise<TestServer> {
    const serverId = options.serverId ?? `srv-${process.pid}`
    const server = new TestServer(endpoint, serverId, options.routingId ?? serverId)
    await server.hello(options.bootId ?? 'boot-1')
    return server
  }

  send(...messages: ServerMessage[]): Promise<void> {
    return this.dealer.send(messages.map(encode))
  }

  /** Says hello and waits for the welcome that answers it. */
  async hello(bootId: string): Promise<MessageOf<DispatcherMessage, 'welcome'>> {
    const from = this.received.length
    await this.send({ type: 'hello', serverId: this.serverId, bootId })
    return (await this.waitFor((m) => m.type === 'welcome', from)) as MessageOf<DispatcherMessage, 'welcome'>
  }

  /** The first message matching, received at index `from` or later (waits for it if needed). */
  waitFor(match: (m: DispatcherMessage) => boolean, from = 0): Promise<DispatcherMessage> {
    return this.inbox.waitFor(match, from)
  }

  /** Every message received, in order. */
  get received(): readonly DispatcherMessage[] {
    return this.inbox.received
  }

  async waitForEnd(jobId: string, from = 0): Promise<MessageOf<DispatcherMessage, 'end'>> {
    return (await this.waitFor((m) => m.type === 'end' && m.jobId === jobId, from)) as MessageOf<DispatcherMessage, 'end'>
  }

  async waitForStarted(jobId: string, from = 0): Promise<MessageOf<DispatcherMessage, 'started'>> {
    return (await this.waitFor((m) => m.type === 'started' && m.jobId === jobId, from)) as MessageOf<DispatcherMessage, 'started'>
  }

  /** Received messages about one job, in order. */
  about(jobId: string): JobMessage[] {
    return this.received.filter((m): m is JobMessage => 'jobId' in m && m.jobId === jobId)
  }

  /** Asks for the hosts and sandboxes (as GET /api/v1/workers does) and waits for the reply. */
  async workers(): Promise<MessageOf<DispatcherMessage, 'workersReport'>> {
    const requestId = `req-${++requestCounter}`
    await this.send({ type: 'workersRequest', requestId })
    return (await this.waitFor((m) => m.type === 'workersReport' && m.requestId === requestId)) as MessageOf<DispatcherMessage, 'workersReport'>
  }

  close(): void {
    this.dealer.close()
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        this.batchSizes.push(frames.length)
        for (const frame of frames) {
          this.inbox.push(decode(dispatcherMessageSchema, frame))
        }
      }
    } catch (err) {
      // A message that fails validation escapes as an unhandled rejection, which fails the test run.
      if (!this.dealer.closed) throw err
    }
  }
}
