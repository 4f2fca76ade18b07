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
 *
 * A link that hears no welcome for a few hello intervals opens a new socket
 * with a new connection boot id: whatever state the old socket was stuck in
 * (seen under heavy load: hellos never reaching a dispatcher that was up),
 * the new one starts clean, messages it had not sent go out on the new one,
 * and the dispatcher re-sends what this server has not acked.
 */
import { randomUUID } from 'node:crypto'
import { Dealer } from 'zeromq'
import { decode, dispatcherMessageSchema, encode, ProtocolError } from '../protocol/index.ts'
import type { DispatcherMessage, PoolState, ServerMessage, WorkersReport } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'

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
  /** New per process (and per reconnection); defaults to a random UUID. */
  bootId?: string
  /** How often hello is repeated (config.server.helloIntervalMs). */
  helloIntervalMs: number
  /** A socket that brought no welcome for this long is replaced by a new one (default 10 s, at least 3 hellos). */
  reconnectAfterMs?: number
  /** How long a request (requestWorkers) waits for its reply (config.server.dispatcherRequestTimeoutMs). */
  requestTimeoutMs: number
  logger: Logger
}

/** Frames per multipart message; a bigger outbox leaves in several messages. */
const MAX_FRAMES = 1000

/** A dispatcher that missed this many hellos in a row counts as disconnected. */
const MISSED_HELLOS = 3

/**
 * @example
 *   const link = new ZmqDispatcherLink({ endpoint: 'tcp://127.0.0.1:5555', serverId: 'web-1', helloIntervalMs: 2000, requestTimeoutMs: 2000, logger })
 *   link.onMessages((batch) => service.receive(batch))
 *   link.start()
 */
export class ZmqDispatcherLink implements DispatcherLink {
  readonly serverId: string
  /** Changes when the link opens a new socket, so the dispatcher re-sends what was not acked. */
  bootId: string
  private readonly endpoint: string
  private readonly helloIntervalMs: number
  private readonly logger: Logger
  private dealer: Dealer
  /** When the current socket was opened: a dispatcher silent since then for too long means a new socket. */
  private openedAt = 0
  private outbox: Buffer[] = []
  /** At most one hello waits to be sent, however long the dispatcher is away. */
  private helloDue = false
  private sending = false
  /** A pump is scheduled for the end of this tick. */
  private pumpDue = false
  private closed = false
  private handler: (messages: DispatcherMessage[]) => void = () => {}
  private welcome: { bootId: string; pool: PoolState; at: number } | null = null
  private timer: NodeJS.Timeout | undefined
  private readonly requestTimeoutMs: number
  private readonly reconnectAfterMs: number
  /** Requests waiting for their reply, by requestId. */
  private readonly requests = new Map<string, (report: WorkersReport | null) => void>()

  constructor(options: ZmqLinkOptions) {
    this.endpoint = options.endpoint
    this.serverId = options.serverId
    this.bootId = options.bootId ?? randomUUID()
    this.helloIntervalMs = options.helloIntervalMs
    this.requestTimeoutMs = options.requestTimeoutMs
    this.reconnectAfterMs = options.reconnectAfterMs ?? Math.max(10_000, MISSED_HELLOS * this.helloIntervalMs)
    this.logger = options.logger
    // immediate: messages wait in our outbox (not in a pipe to a dead peer) while no dispatcher is there.
    // linger 0: what is unsent at close is re-sent or re-derived after restart (acks, recovery).
    this.dealer = this.open()
  }

  /** Connects, says hello now and every helloIntervalMs, and starts receiving. */
  start(): void {
    this.dealer.connect(this.endpoint)
    this.openedAt = Date.now()
    this.hello()
    this.timer = setInterval(() => {
      this.reopenIfSilent()
      this.hello()
    }, this.helloIntervalMs)
    this.timer.unref()
  }

  onMessages(handler: (messages: DispatcherMessage[]) => void): void {
    this.handler = handler
  }

  send(messages: readonly ServerMessage[]): void {
    if (this.closed) return
    for (const message of messages) this.outbox.push(encode(message))
    // At the end of this tick, as the dispatcher's outbox does: the submits of every request
    // parsed in one turn of the event loop leave as one multipart message, not one each.
    if (!this.pumpDue) {
      this.pumpDue = true
      setImmediate(() => {
        this.pumpDue = false
        this.pump()
      })
    }
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
      this.send([{ type: 'workersRequest', requestId }])
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const settle of [...this.requests.values()]) settle(null)
    clearInterval(this.timer)
    this.dealer.close()
  }

  private open(): Dealer {
    const dealer = new Dealer({ routingId: this.serverId, immediate: true, linger: 0 })
    dealer.events.on('connect', () => this.hello())
    void this.receive(dealer)
    return dealer
  }

  private reopenIfSilent(): void {
    const heard = Math.max(this.welcome?.at ?? 0, this.openedAt)
    if (this.closed || Date.now() - heard < this.reconnectAfterMs) return
    this.logger.warn({ endpoint: this.endpoint, silentMs: Date.now() - heard }, 'no answer from the dispatcher; opening a new connection')
    const old = this.dealer
    this.bootId = randomUUID()
    this.dealer = this.open()
    this.dealer.connect(this.endpoint)
    this.openedAt = Date.now()
    old.close()
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
          const messages = this.outbox.splice(0, MAX_FRAMES)
          const frames = this.helloDue ? [encode({ type: 'hello', serverId: this.serverId, bootId: this.bootId } satisfies ServerMessage), ...messages] : messages
          this.helloDue = false
          const dealer = this.dealer
          try {
            await dealer.send(frames)
          } catch (err) {
            if (this.closed) return
            // Replaced while this send waited: the messages go out on the new socket.
            if (dealer !== this.dealer) this.outbox.unshift(...messages)
            else this.logger.warn({ err }, 'sending to the dispatcher failed')
            break
          }
        }
      } finally {
        this.sending = false
        if (!this.closed && (this.helloDue || this.outbox.length > 0)) this.pump()
      }
    })()
  }

  private async receive(dealer: Dealer): Promise<void> {
    try {
      for await (const frames of dealer) {
        const batch: DispatcherMessage[] = []
        for (const frame of frames) {
          try {
            const message = decode(dispatcherMessageSchema, frame)
            // A reply goes to its request (a late one, after the timeout, to nobody); it is about no job.
            if (message.type === 'workersReport') this.requests.get(message.requestId)?.({ hosts: message.hosts, sandboxes: message.sandboxes })
            else batch.push(message)
          } catch (err) {
            // The dispatcher is trusted; a bad frame is a bug there, not a reason to stop listening.
            if (!(err instanceof ProtocolError)) throw err
            this.logger.warn({ reason: err.message }, 'dropped a dispatcher frame')
          }
        }
        for (const message of batch) {
          if (message.type === 'welcome') this.welcome = { bootId: message.bootId, pool: message.pool, at: Date.now() }
        }
        if (batch.length === 0) continue
        try {
          this.handler(batch)
        } catch (err) {
          this.logger.error({ err }, 'handling dispatcher messages failed')
        }
      }
    } catch (err) {
      if (!this.closed && dealer === this.dealer) this.logger.error({ err }, 'receiving from the dispatcher failed')
    }
  }
}
