/**
 * The server's one connection to the dispatcher: a ZeroMQ DEALER whose
 * routing id is the server id, so the dispatcher's replies (and, with ROUTER
 * handover, its re-sends after a server restart) find this process.
 *
 *   server DEALER --hello/submit/cancel/ack--> ROUTER dispatcher
 *                 <--welcome/started/output/end--
 *                 --workers {requestId}-->          (request/response, for monitoring)
 *                 <--workers {requestId, hosts, sandboxes}--
 *
 * The job service sees only the DispatcherLink interface, so route tests can
 * plug in another link without sockets.
 */
import { randomUUID } from 'node:crypto'
import { Dealer } from 'zeromq'
import { decode, dispatcherMessageSchema, encode, ProtocolError } from '../protocol/index.ts'
import type { DispatcherMessage, PoolState, ServerMessage, WorkersReport } from '../protocol/index.ts'

export interface DispatcherState {
  /** A welcome arrived recently (within a few hello intervals). */
  connected: boolean
  /** The dispatcher's boot id from the last welcome, null before the first. */
  bootId: string | null
  /** Milliseconds since the last welcome, null before the first. */
  lastSeenMs: number | null
  pool: PoolState | null
}

export interface DispatcherLink {
  /** Starts talking to the dispatcher; called once, after onMessages. */
  start(): void
  /** Queues messages for the dispatcher; what is queued together leaves as one multipart message. */
  send(messages: readonly ServerMessage[]): void
  /** Sets who receives each batch the dispatcher sends (one call per multipart message, in order). Replies to requests are not in them. */
  onMessages(handler: (messages: DispatcherMessage[]) => void): void
  state(): DispatcherState
  /** The dispatcher's hosts and sandboxes; null when it is not connected or does not answer in time. */
  requestWorkers(): Promise<WorkersReport | null>
  close(): Promise<void>
}

export interface ZmqLinkOptions {
  /** Dispatcher ROUTER endpoint, e.g. tcp://127.0.0.1:5555. */
  endpoint: string
  /** Stable across restarts: the dispatcher routes replies to it. */
  serverId: string
  /** New per process; defaults to a random UUID. */
  bootId?: string
  /** How often hello is repeated (default 2000 ms). */
  helloIntervalMs?: number
  /** How long a request (requestWorkers) waits for its reply (default 2000 ms). */
  requestTimeoutMs?: number
  log?: (line: string) => void
}

/** Frames per multipart message; a bigger outbox leaves in several messages. */
const MAX_FRAMES = 1000

/** A dispatcher that missed this many hellos in a row counts as disconnected. */
const MISSED_HELLOS = 3

/**
 * @example
 *   const link = new ZmqDispatcherLink({ endpoint: 'tcp://127.0.0.1:5555', serverId: 'web-1' })
 *   link.onMessages((batch) => service.receive(batch))
 *   link.start()
 */
export class ZmqDispatcherLink implements DispatcherLink {
  readonly serverId: string
  readonly bootId: string
  private readonly endpoint: string
  private readonly helloIntervalMs: number
  private readonly log: (line: string) => void
  private readonly dealer: Dealer
  private outbox: Buffer[] = []
  /** At most one hello waits to be sent, however long the dispatcher is away. */
  private helloDue = false
  private sending = false
  private closed = false
  private handler: (messages: DispatcherMessage[]) => void = () => {}
  private welcome: { bootId: string; pool: PoolState; at: number } | null = null
  private timer: NodeJS.Timeout | undefined
  private readonly requestTimeoutMs: number
  /** Requests waiting for their reply, by requestId. */
  private readonly requests = new Map<string, (report: WorkersReport | null) => void>()

  constructor(options: ZmqLinkOptions) {
    this.endpoint = options.endpoint
    this.serverId = options.serverId
    this.bootId = options.bootId ?? randomUUID()
    this.helloIntervalMs = options.helloIntervalMs ?? 2000
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000
    this.log = options.log ?? ((line) => console.warn(line))
    // immediate: messages wait in our outbox (not in a pipe to a dead peer) while no dispatcher is there.
    // linger 0: what is unsent at close is re-sent or re-derived after restart (acks, recovery).
    this.dealer = new Dealer({ routingId: this.serverId, immediate: true, linger: 0 })
  }

  /** Connects, says hello now and every helloIntervalMs, and starts receiving. */
  start(): void {
    this.dealer.events.on('connect', () => this.hello())
    this.dealer.connect(this.endpoint)
    this.hello()
    this.timer = setInterval(() => this.hello(), this.helloIntervalMs)
    this.timer.unref()
    void this.receive()
  }

  onMessages(handler: (messages: DispatcherMessage[]) => void): void {
    this.handler = handler
  }

  send(messages: readonly ServerMessage[]): void {
    if (this.closed) return
    for (const message of messages) this.outbox.push(encode(message))
    this.pump()
  }

  state(): DispatcherState {
    if (!this.welcome) return { connected: false, bootId: null, lastSeenMs: null, pool: null }
    const lastSeenMs = Date.now() - this.welcome.at
    return {
      connected: lastSeenMs < MISSED_HELLOS * this.helloIntervalMs,
      bootId: this.welcome.bootId,
      lastSeenMs,
      pool: this.welcome.pool,
    }
  }

  requestWorkers(): Promise<WorkersReport | null> {
    // Not connected: answer at once rather than leave a request waiting in the outbox for a dispatcher that is away.
    if (this.closed || !this.state().connected) return Promise.resolve(null)
    const requestId = randomUUID()
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), this.requestTimeoutMs)
      const settle = (report: WorkersReport | null): void => {
        clearTimeout(timer)
        this.requests.delete(requestId)
        resolve(report)
      }
      this.requests.set(requestId, settle)
      this.send([{ type: 'workers', requestId }])
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const settle of [...this.requests.values()]) settle(null)
    clearInterval(this.timer)
    this.dealer.close()
  }

  private hello(): void {
    if (this.closed) return
    this.helloDue = true
    this.pump()
  }

  private pump(): void {
    if (this.sending || this.closed) return
    this.sending = true
    void (async () => {
      try {
        while (!this.closed && (this.helloDue || this.outbox.length > 0)) {
          const frames = this.outbox.splice(0, MAX_FRAMES)
          if (this.helloDue) {
            this.helloDue = false
            frames.unshift(encode({ type: 'hello', serverId: this.serverId, bootId: this.bootId } satisfies ServerMessage))
          }
          await this.dealer.send(frames)
        }
      } catch (err) {
        if (!this.closed) this.log(`cellgate: sending to the dispatcher failed: ${(err as Error).message}`)
      } finally {
        this.sending = false
      }
    })()
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        const batch: DispatcherMessage[] = []
        for (const frame of frames) {
          try {
            const message = decode(dispatcherMessageSchema, frame)
            // A reply goes to its request (a late one, after the timeout, to nobody); it is about no job.
            if (message.type === 'workers') this.requests.get(message.requestId)?.({ hosts: message.hosts, sandboxes: message.sandboxes })
            else batch.push(message)
          } catch (err) {
            // The dispatcher is trusted; a bad frame is a bug there, not a reason to stop listening.
            if (!(err instanceof ProtocolError)) throw err
            this.log(`cellgate: dropped a dispatcher frame: ${err.message}`)
          }
        }
        for (const message of batch) {
          if (message.type === 'welcome') this.welcome = { bootId: message.bootId, pool: message.pool, at: Date.now() }
        }
        if (batch.length === 0) continue
        try {
          this.handler(batch)
        } catch (err) {
          this.log(`cellgate: handling dispatcher messages failed: ${(err as Error).stack}`)
        }
      }
    } catch (err) {
      if (!this.closed) this.log(`cellgate: receiving from the dispatcher failed: ${(err as Error).message}`)
    }
  }
}
