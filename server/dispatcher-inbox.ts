/**
 * Stores what the dispatcher sends. Messages are collected for one tick and
 * stored with one store.apply (through the job service's commit, which
 * also tells live subscribers); one batch is in flight at a time, which
 * keeps each job's messages in order. A batch is acked only once stored,
 * so whatever the dispatcher may forget is durable; while the store is
 * down the batch is tried again until it is back, and, unacked, it is also
 * still held by the dispatcher, which re-sends it after a restart.
 *
 * No batch is dropped for one bad message: when the store refuses a batch
 * (StoreRefusedError: it is up, but would refuse the same again), its
 * messages are stored in halves, down to the one it refuses. That one is set
 * aside (logged, counted) and its job ends `error` StoreRefused, saying what
 * could not be stored and why; the dispatcher is told to cancel it, and
 * everything else in the batch is stored and acked as usual.
 */
import type { CellError, DispatcherMessage, MessageOf } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { planBatch } from './job-updates.ts'
import type { ServerMetrics } from './metrics.ts'
import { StoreRefusedError } from './store/guard.ts'
import { LIVE_STATUSES, type JobUpdate, type Store, type UpdateResult } from './store/port.ts'

export interface DispatcherInboxDeps {
  /** Stores updates and tells live subscribers what changed (JobService.commit). */
  commit(updates: readonly JobUpdate[]): Promise<UpdateResult[]>
  store: Pick<Store, 'endSession'>
  link: Pick<DispatcherLink, 'send'>
  /** Runs on the first welcome of each dispatcher boot (recovery); when it fails, the next welcome runs it again. */
  onNewBoot(bootId: string): Promise<void>
  logger: Logger
  metrics: Pick<ServerMetrics, 'batchStored' | 'messageRefused'>
}

type JobMessage = MessageOf<DispatcherMessage, 'started' | 'output' | 'end'>

/** Longest pause between attempts to store a batch while the store is down. */
const STORE_RETRY_MAX_MS = 5_000

/** Jobs one ack message may name (the protocol's bound). */
const MAX_ACKS = 10_000

/** Characters of the store's refusal quoted in the job's error. */
const MAX_REFUSAL_CHARS = 500

/**
 * @example
 *   const inbox = new DispatcherInbox({ commit, store, link, onNewBoot, logger, metrics })
 *   link.onMessages((batch) => inbox.receive(batch))
 */
export class DispatcherInbox {
  private pending: DispatcherMessage[] = []
  private flushing: Promise<void> | null = null
  private dispatcherBoot: string | null = null
  private closed = false

  constructor(private readonly deps: DispatcherInboxDeps) {}

  /** Takes one batch from the dispatcher link; stored on the next tick together with whatever else arrives. */
  receive(messages: readonly DispatcherMessage[]): void {
    if (this.closed) return
    // One by one: spreading a batch of 100k+ messages into push() overflows the stack and would drop the whole batch.
    for (const message of messages) this.pending.push(message)
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .catch((err: unknown) => this.deps.logger.error({ err }, 'storing dispatcher messages failed'))
  }

  /** Resolves when every message received so far is stored, published and acked. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  /** Stops taking messages and lets the batch in flight finish (a batch the store refuses is left to the dispatcher). */
  async close(): Promise<void> {
    this.closed = true
    await this.idle()
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending
        this.pending = []
        await this.storeBatch(batch)
      }
    } finally {
      this.flushing = null
    }
  }

  private async storeBatch(batch: readonly DispatcherMessage[]): Promise<void> {
    const { store, link, logger } = this.deps
    const plan = planBatch(batch, Date.now())
    // Closed while the store was down: left unacked, to the dispatcher.
    if (!(await this.store(batch, plan.updates))) return
    const now = Date.now()
    for (const { session, reason } of plan.sessionsEnded) {
      // Not retried: should this be lost, the session's next cell ends `lost` with the same reason, and ends it then.
      await store.endSession(session, now, reason).catch((err: unknown) => logger.warn({ session, err }, 'ending a session failed'))
    }
    for (let i = 0; i < plan.acks.length; i += MAX_ACKS) {
      link.send([{ type: 'ack', acks: plan.acks.slice(i, i + MAX_ACKS) }])
    }
    if (plan.welcomeBoot !== null && plan.welcomeBoot !== this.dispatcherBoot) {
      this.dispatcherBoot = plan.welcomeBoot
      try {
        await this.deps.onNewBoot(plan.welcomeBoot)
      } catch (err) {
        logger.error({ dispatcherBoot: plan.welcomeBoot, err }, 'recovery after a dispatcher boot failed')
        this.dispatcherBoot = null
      }
    }
  }

  /**
   * Stores the messages' updates; when the store refuses them, the first
   * half and then the second, down to the one message it refuses, which is
   * set aside. False when the inbox closed while the store was down.
   */
  private async store(messages: readonly DispatcherMessage[], updates = planBatch(messages, Date.now()).updates): Promise<boolean> {
    if (updates.length === 0) return true
    let refusal: StoreRefusedError
    try {
      return await this.commitWhileDown(messages.length, updates)
    } catch (err) {
      if (!(err instanceof StoreRefusedError)) throw err
      refusal = err
    }
    // One message with updates is one about a job.
    if (messages.length === 1) return this.setAside(messages[0] as JobMessage, refusal)
    const half = Math.ceil(messages.length / 2)
    return (await this.store(messages.slice(0, half))) && this.store(messages.slice(half))
  }

  /** Commits, trying again while the store is down (a refusal is thrown); false when the inbox closed meanwhile. */
  private async commitWhileDown(messages: number, updates: readonly JobUpdate[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        const started = performance.now()
        await this.deps.commit(updates)
        this.deps.metrics.batchStored(messages, (performance.now() - started) / 1000)
        return true
      } catch (err) {
        if (err instanceof StoreRefusedError) throw err
        this.deps.logger.warn({ messages, attempt, err }, 'storing dispatcher messages failed; trying again')
        // What arrives meanwhile waits behind this batch, so no job's messages overtake each other.
        if (this.closed) return false
        await new Promise((resolve) => setTimeout(resolve, Math.min(STORE_RETRY_MAX_MS, 100 * 2 ** attempt)))
      }
    }
  }

  /** The message the store refuses: logged, counted, and its job ended `error` instead (and cancelled in the dispatcher). */
  private async setAside(message: JobMessage, refusal: StoreRefusedError): Promise<boolean> {
    const { jobId } = message
    this.deps.logger.error({ jobId, type: message.type, msgSeq: message.msgSeq, err: refusal }, 'the store refused a dispatcher message: set aside, its job ends error')
    this.deps.metrics.messageRefused()
    const what = message.type === 'output' ? 'an output' : message.type === 'end' ? 'the end (result)' : 'the start'
    const error: CellError = { name: 'StoreRefused', message: `${what} of this job could not be stored (${refusal.message.slice(0, MAX_REFUSAL_CHARS)})` }
    const patch = { endedAt: Date.now(), error, ...(message.type === 'end' && { usage: message.end.usage ?? null }) }
    try {
      if (!(await this.commitWhileDown(1, [{ jobId, transition: { from: LIVE_STATUSES, to: 'error', patch } }]))) return false
    } catch (err) {
      if (!(err instanceof StoreRefusedError)) throw err
      this.deps.logger.error({ jobId, err }, 'the store refused the error end of a job whose message it refused')
    }
    if (message.type !== 'end') this.deps.link.send([{ type: 'cancel', jobId }])
    return true
  }
}
