/**
 * The job service: the one place that changes jobs. Routes call submit,
 * cancel and waitForEnd; the dispatcher link feeds `receive`. Every write
 * goes store first, then the event hub (live subscribers), then the
 * dispatcher (acks), so whatever a client or the dispatcher is told is
 * already durable.
 *
 * Messages from the dispatcher are collected for one tick and stored with one
 * store.apply; one batch is in flight at a time, which keeps each job's
 * messages in order.
 */
import { isTerminal } from '../protocol/index.ts'
import type { CellError, DispatcherMessage, JobSession, JobView, Limits } from '../protocol/index.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { EventHub } from './event-hub.ts'
import { planBatch } from './job-updates.ts'
import { newJobId } from './ids.ts'
import { jobSpecOf, toJobView } from './records.ts'
import { recoverAfterBoot } from './job-recovery.ts'
import type { JobRecord, JobUpdate, Store, UpdateResult } from './store/port.ts'

/** What a client may choose about a job; validated at the HTTP edge (cell-request.ts). */
export interface CellInput {
  code: string
  timeoutMs?: number
  memoryMb?: number
  /** The session to run in (its id); resolved to a JobSession by sessions.ts. */
  session?: string
}

export interface JobServiceOptions {
  store: Store
  link: DispatcherLink
  config: Pick<Config, 'server' | 'dispatcher' | 'limits' | 'sessions'>
  hub?: EventHub
  logger: Logger
}

/** Until quality of service assigns priorities per key, every cell runs at the middle priority. */
const DEFAULT_PRIORITY = 5

/** Longest pause between attempts to store a batch while the store is down. */
const STORE_RETRY_MAX_MS = 5_000

/** Jobs one ack message may name (the protocol's bound). */
const MAX_ACKS = 10_000

/**
 * @example
 *   const jobs = new JobService({ store, link, config })
 *   link.onMessages((batch) => jobs.receive(batch))
 *   const job = await jobs.submit({ code: '1 + 1' })
 */
export class JobService {
  readonly store: Store
  readonly link: DispatcherLink
  readonly hub: EventHub
  readonly config: JobServiceOptions['config']
  private readonly logger: Logger
  private pending: DispatcherMessage[] = []
  private flushing: Promise<void> | null = null
  private dispatcherBoot: string | null = null
  private readonly waiters = new Set<() => void>()
  private closed = false

  constructor(options: JobServiceOptions) {
    this.store = options.store
    this.link = options.link
    this.config = options.config
    this.hub = options.hub ?? new EventHub(options.logger)
    this.logger = options.logger
  }

  /** Stores the job `queued`, then hands it to the dispatcher. `session`: the session and cell number it runs as (sessions.ts). */
  async submit(input: Omit<CellInput, 'session'>, session: JobSession | null = null): Promise<JobRecord> {
    const defaults = this.config.limits
    const limits: Limits = {
      wallMs: input.timeoutMs ?? defaults.wallMs,
      cpuMs: defaults.cpuMs,
      memoryMb: input.memoryMb ?? defaults.memoryMb,
      outputBytes: defaults.outputBytes,
    }
    const job: JobRecord = {
      id: newJobId(),
      status: 'queued',
      code: input.code,
      owner: 'anonymous',
      limits,
      priority: DEFAULT_PRIORITY,
      createdAt: Date.now(),
      startedAt: null,
      endedAt: null,
      result: null,
      error: null,
      usage: null,
      dispatcherBoot: null,
      sandboxId: null,
      session,
    }
    await this.store.insertJob(job)
    this.link.send([{ type: 'submit', job: jobSpecOf(job) }])
    return job
  }

  /** The job as clients see it, with all its outputs; null when there is no such job. */
  async view(id: string): Promise<JobView | null> {
    const job = await this.store.getJob(id)
    return job && this.viewOf(job)
  }

  async viewOf(job: JobRecord): Promise<JobView> {
    return toJobView(job, await this.store.getOutputs(job.id))
  }

  /**
   * Asks for a job to stop. A queued job ends `cancelled` here at once (the
   * dispatcher may not even hold it); a running one ends when its sandbox
   * says so. Null when there is no such job.
   */
  async cancel(id: string): Promise<{ job: JobRecord; alreadyEnded: boolean } | null> {
    const job = await this.store.getJob(id)
    if (!job) return null
    if (isTerminal(job.status)) return { job, alreadyEnded: true }
    if (job.status === 'queued') {
      const error: CellError = { name: 'Cancelled', message: 'the cell was cancelled before it started' }
      await this.commit([{ jobId: id, transition: { from: ['queued'], to: 'cancelled', patch: { endedAt: Date.now(), error } } }])
    }
    this.link.send([{ type: 'cancel', jobId: id }])
    return { job: (await this.store.getJob(id)) ?? job, alreadyEnded: false }
  }

  /**
   * Resolves with the job once it has ended, or as it is after `timeoutMs`;
   * null when there is no such job. Listens to the hub, never polls.
   * `current`: the job as read or inserted earlier in this same tick, which
   * saves reading it again (nothing can have been stored for it since).
   */
  async waitForEnd(id: string, timeoutMs: number, current?: JobRecord): Promise<JobRecord | null> {
    let wake!: () => void
    const woken = new Promise<void>((resolve) => (wake = resolve))
    // Subscribe before reading, so an end stored in between is not missed.
    const off = this.hub.subscribe(id, (event) => {
      if (event.type === 'status' && isTerminal(event.status)) wake()
    })
    const timer = setTimeout(wake, timeoutMs)
    this.waiters.add(wake)
    try {
      const job = current ?? await this.store.getJob(id)
      if (!job || isTerminal(job.status) || this.closed) return job
      await woken
      return await this.store.getJob(id)
    } finally {
      off()
      clearTimeout(timer)
      this.waiters.delete(wake)
    }
  }

  /** Takes one batch from the dispatcher link; stored on the next tick together with whatever else arrives. */
  receive(messages: readonly DispatcherMessage[]): void {
    if (this.closed) return
    this.pending.push(...messages)
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .catch((err: unknown) => this.logger.error({ err }, 'storing dispatcher messages failed'))
  }

  /** Resolves when every message received so far is stored, published and acked. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  /** Applies updates in one store call, then tells live subscribers what actually changed. */
  async commit(updates: readonly JobUpdate[]): Promise<UpdateResult[]> {
    const results = await this.store.apply(updates)
    results.forEach((result, i) => {
      for (const output of result.inserted) this.hub.publish(result.jobId, { type: 'output', output })
      const to = updates[i]?.transition?.to
      if (result.transitioned && to) this.hub.publish(result.jobId, { type: 'status', status: to })
    })
    return results
  }

  /** Stops taking messages, lets the batch in flight finish and answers every waiter. */
  async close(): Promise<void> {
    this.closed = true
    for (const wake of this.waiters) wake()
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
    const plan = planBatch(batch, Date.now())
    if (plan.updates.length > 0) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.commit(plan.updates)
          break
        } catch (err) {
          this.logger.warn({ messages: batch.length, attempt, err }, 'storing dispatcher messages failed; trying again')
          // The store is down (health says so): keep the batch and try again until it is back, so no
          // output is lost; what arrives meanwhile waits behind it. Unacked, it is also still held by
          // the dispatcher, which re-sends it to this server id after a restart.
          if (this.closed) return
          await new Promise((resolve) => setTimeout(resolve, Math.min(STORE_RETRY_MAX_MS, 100 * 2 ** attempt)))
        }
      }
    }
    const now = Date.now()
    for (const { session, reason } of plan.sessionsEnded) {
      // Not retried: should this be lost, the session's next cell ends `lost` with the same reason, and ends it then.
      await this.store.endSession(session, now, reason).catch((err: unknown) => this.logger.warn({ session, err }, 'ending a session failed'))
    }
    for (let i = 0; i < plan.acks.length; i += MAX_ACKS) {
      this.link.send([{ type: 'ack', acks: plan.acks.slice(i, i + MAX_ACKS) }])
    }
    if (plan.welcomeBoot !== null && plan.welcomeBoot !== this.dispatcherBoot) {
      this.dispatcherBoot = plan.welcomeBoot
      try {
        await recoverAfterBoot(this, plan.welcomeBoot)
      } catch (err) {
        this.logger.error({ dispatcherBoot: plan.welcomeBoot, err }, 'recovery after a dispatcher boot failed')
        this.dispatcherBoot = null
      }
    }
  }
}
