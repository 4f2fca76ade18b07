/**
 * Stores what the dispatcher sends. Messages are collected for one tick and
 * stored with one store.apply (through the job service's commit, which
 * also tells live subscribers); one batch is in flight at a time, which
 * keeps each job's messages in order. A batch is acked only once stored,
 * so whatever the dispatcher may forget is durable; while the store is
 * down the batch is tried again until it is back, and, unacked, it is also
 * still held by the dispatcher, which re-sends it after a restart.
 */
import type { DispatcherMessage } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { planBatch } from './job-updates.ts'
import type { ServerMetrics } from './metrics.ts'
import type { JobUpdate, Store, UpdateResult } from './store/port.ts'

export interface DispatcherInboxDeps {
  /** Stores updates and tells live subscribers what changed (JobService.commit). */
  commit(updates: readonly JobUpdate[]): Promise<UpdateResult[]>
  store: Pick<Store, 'endSession'>
  link: Pick<DispatcherLink, 'send'>
  /** Runs on the first welcome of each dispatcher boot (recovery); when it fails, the next welcome runs it again. */
  onNewBoot(bootId: string): Promise<void>
  logger: Logger
  metrics: Pick<ServerMetrics, 'batchStored'>
}

/** Longest pause between attempts to store a batch while the store is down. */
const STORE_RETRY_MAX_MS = 5_000

/** Jobs one ack message may name (the protocol's bound). */
const MAX_ACKS = 10_000

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
    const { commit, store, link, logger } = this.deps
    const plan = planBatch(batch, Date.now())
    if (plan.updates.length > 0) {
      for (let attempt = 1; ; attempt++) {
        try {
          const started = performance.now()
          await commit(plan.updates)
          this.deps.metrics.batchStored(batch.length, (performance.now() - started) / 1000)
          break
        } catch (err) {
          logger.warn({ messages: batch.length, attempt, err }, 'storing dispatcher messages failed; trying again')
          // What arrives meanwhile waits behind this batch, so no job's messages overtake each other.
          if (this.closed) return
          await new Promise((resolve) => setTimeout(resolve, Math.min(STORE_RETRY_MAX_MS, 100 * 2 ** attempt)))
        }
      }
    }
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
}
