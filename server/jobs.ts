/**
 * The job service: the one place that changes jobs. Routes submit, wait,
 * view, follow and cancel through it, each call naming its caller; the dispatcher
 * link feeds its inbox (dispatcher-inbox.ts); the sweep asks it to end
 * stale jobs. Every write goes store first, then the event hub (live
 * subscribers), then the dispatcher, so whatever a client or the
 * dispatcher is told is already durable.
 */
import { isTerminal } from '../protocol/index.ts'
import type { CellError, DispatcherMessage, JobSession, JobSummaryView, JobView } from '../protocol/index.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { Caller } from './caller.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { DispatcherInbox } from './dispatcher-inbox.ts'
import { ApiError } from './errors.ts'
import type { EventHub } from './event-hub.ts'
import { newJobId } from './ids.ts'
import { followJob, type JobStreamDeps, type JobStreamEvent } from './job-stream.ts'
import { recoverAfterBoot, sweepStaleJobs, type RecoveryDeps } from './job-recovery.ts'
import type { ServerMetrics } from './metrics.ts'
import { jobSpecOf, toJobSummaryView, toJobView } from './records.ts'
import { accountOf, actsFor, authorize } from './principals/authorize.ts'
import { limitsFor } from './principals/limits-for.ts'
import { keyOf, ownerOf, shareOf } from './principals/principal.ts'
import type { Caps } from './principals/rights.ts'
import { ANONYMOUS, type JobRecord, type JobUpdate, type Store, type UpdateResult } from './store/port.ts'

/** What a client may choose about a job; validated at the HTTP edge (cell-request.ts). */
/** Cells "my recent cells" lists at most. */
export const RECENT_CELLS = 50

export interface CellInput {
  code: string
  timeoutMs?: number
  memoryMb?: number
  /** Outputs the cell may make (limits.outputs). */
  outputs?: number
  /** The session to run in (its id); its memory limit then applies. */
  session?: string
  /** Only its owner's keys may read it (default: anyone who has its link). */
  private?: boolean
}

/** What the job service needs of sessions (SessionService). */
export interface SessionPort {
  /** Reserves the session's next cell: its number and the session's memory limit; throws 404/409 for a session that cannot take one. */
  nextCell(caller: Caller, id: string): Promise<{ session: JobSession; memoryMb: number }>
  /** Ends an active session for the given reason and tells the dispatcher; false if it was not active. */
  endWithReason(id: string, reason: string): Promise<boolean>
}

export interface JobServiceDeps {
  store: Store
  link: Pick<DispatcherLink, 'send'>
  hub: EventHub
  sessions: SessionPort
  config: Pick<Config, 'server' | 'dispatcher' | 'limits' | 'retention'>
  logger: Logger
  metrics: ServerMetrics
}

/** Until quality of service assigns priorities per key, every cell runs at the middle priority. */
const DEFAULT_PRIORITY = 5

/**
 * @example
 *   const jobs = new JobService({ store, link, hub, sessions, config, logger, metrics })
 *   link.onMessages((batch) => jobs.receive(batch))
 *   const view = await jobs.submitAndWait(caller, { code: '1 + 1' })
 */
export class JobService {
  private readonly store: Store
  private readonly link: Pick<DispatcherLink, 'send'>
  private readonly hub: EventHub
  private readonly sessions: SessionPort
  private readonly config: JobServiceDeps['config']
  private readonly metrics: ServerMetrics
  private readonly recovery: RecoveryDeps
  private readonly streams: JobStreamDeps
  private readonly inbox: DispatcherInbox
  private readonly waiters = new Set<() => void>()
  private closed = false
  /** How long an ended job is kept (config.retention.jobsMs), for the answer about a job that is gone. */
  readonly retentionMs: number

  constructor(deps: JobServiceDeps) {
    this.store = deps.store
    this.link = deps.link
    this.hub = deps.hub
    this.sessions = deps.sessions
    this.config = deps.config
    this.metrics = deps.metrics
    this.retentionMs = deps.config.retention.jobsMs
    this.streams = { store: deps.store, hub: deps.hub, pollMs: deps.config.server.streamPollMs, pageSize: deps.config.server.streamPageSize, logger: deps.logger }
    const commit = (updates: readonly JobUpdate[]) => this.commit(updates)
    this.recovery = {
      store: deps.store, link: deps.link, config: deps.config, commit,
      endSession: (id, reason) => deps.sessions.endWithReason(id, reason),
    }
    this.inbox = new DispatcherInbox({
      commit, store: deps.store, link: deps.link, logger: deps.logger, metrics: deps.metrics,
      onNewBoot: (bootId) => recoverAfterBoot(this.recovery, bootId),
    })
  }

  /** Stores the job `queued` and hands it to the dispatcher; answers at once, with the job as stored. */
  async submit(caller: Caller, input: CellInput): Promise<JobView> {
    return toJobView(await this.insert(caller, input), [], { showSession: true })
  }

  /**
   * Submits, then waits for the job to end, up to its wall limit plus
   * config.server.waitGraceMs: the finished job, or the job as it is then.
   */
  async submitAndWait(caller: Caller, input: CellInput): Promise<JobView> {
    const job = await this.insert(caller, input)
    const now = await this.waitForEnd(job.id, job.limits.wallMs + this.config.server.waitGraceMs, job)
    return this.viewOf(now ?? job, caller)
  }

  /** The job as clients see it, with all its outputs; null when there is no such job. */
  async view(caller: Caller, id: string): Promise<JobView | null> {
    const job = await this.readable(caller, id)
    return job && this.viewOf(job, caller)
  }

  /** The caller's account's cells, newest first ("my recent cells"); 401 anonymous. */
  async listMine(caller: Caller): Promise<JobSummaryView[]> {
    const owner = accountOf(caller, 'cells:run')
    return (await this.store.listJobsByOwner(owner, RECENT_CELLS)).map(toJobSummaryView)
  }

  /**
   * The job's events after output `afterSeq` until it is done or `signal`
   * aborts (see job-stream.ts); null when there is no such job.
   */
  async follow(caller: Caller, id: string, afterSeq: number, signal: AbortSignal): Promise<AsyncIterable<JobStreamEvent[]> | null> {
    if ((await this.readable(caller, id)) === null) return null
    return followJob(this.streams, id, afterSeq, signal)
  }

  /**
   * Asks for a job to stop. A queued job ends `cancelled` here at once (the
   * dispatcher may not even hold it); a running one ends when its sandbox
   * says so. Null when there is no such job.
   */
  async cancel(caller: Caller, id: string): Promise<{ view: JobView; alreadyEnded: boolean } | null> {
    const job = await this.readable(caller, id)
    if (!job) return null
    // An anonymous cell's link is all there is to it; a cell of an account is its keys' to stop.
    if (job.owner !== ANONYMOUS && !actsFor(caller, job.owner)) throw new ApiError('forbidden', 'only the keys of the account that ran the cell may cancel it')
    if (isTerminal(job.status)) return { view: await this.viewOf(job, caller), alreadyEnded: true }
    if (job.status === 'queued') {
      const error: CellError = { name: 'Cancelled', message: 'the cell was cancelled before it started' }
      await this.commit([{ jobId: id, transition: { from: ['queued'], to: 'cancelled', patch: { endedAt: Date.now(), error } } }])
    }
    this.link.send([{ type: 'cancel', jobId: id }])
    return { view: await this.viewOf((await this.store.getJob(id)) ?? job, caller), alreadyEnded: false }
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

  /** Takes one batch from the dispatcher link (see dispatcher-inbox.ts). */
  receive(messages: readonly DispatcherMessage[]): void {
    this.inbox.receive(messages)
  }

  /** Resolves when every message received so far is stored, published and acked. */
  idle(): Promise<void> {
    return this.inbox.idle()
  }

  /** Ends `lost` the jobs nobody will finish (see job-recovery.ts); returns how many. */
  sweepStale(now = Date.now()): Promise<number> {
    return sweepStaleJobs(this.recovery, now)
  }

  /** Stops taking messages, lets the batch in flight finish and answers every waiter. */
  async close(): Promise<void> {
    this.closed = true
    for (const wake of this.waiters) wake()
    await this.inbox.close()
  }

  /** Applies updates in one store call, then tells live subscribers and the metrics what actually changed. */
  private async commit(updates: readonly JobUpdate[]): Promise<UpdateResult[]> {
    const results = await this.store.apply(updates)
    results.forEach((result, i) => {
      for (const output of result.inserted) this.hub.publish(result.jobId, { type: 'output', output })
      const to = updates[i]?.transition?.to
      if (!result.transitioned || !to) return
      this.hub.publish(result.jobId, { type: 'status', status: to })
      if (result.times) this.metrics.jobMoved(to, result.times)
    })
    return results
  }

  /** Stores the job `queued`, as its session's next cell if it names one, then hands it to the dispatcher. */
  private async insert(caller: Caller, input: CellInput): Promise<JobRecord> {
    const asks: Caps = {
      ...(input.timeoutMs !== undefined && { wallMs: input.timeoutMs }),
      ...(input.memoryMb !== undefined && { memoryMb: input.memoryMb }),
      ...(input.outputs !== undefined && { outputs: input.outputs }),
    }
    if (input.session === undefined) authorize(caller, 'cells:run', { kind: 'none' }, asks)
    else authorize(caller, 'sessions:use', { kind: 'session', id: input.session }, asks)
    if (input.private === true && caller.principal.kind !== 'key') throw new ApiError('unauthenticated', 'a private cell belongs to an account: send a key (Authorization: Bearer <key>)')
    let session: JobSession | null = null
    let memoryMb = input.memoryMb
    if (input.session !== undefined) ({ session, memoryMb } = await this.sessions.nextCell(caller, input.session))
    const limits = limitsFor(this.config.limits, caller.principal.grant.caps, { ...input, memoryMb })
    const job: JobRecord = {
      id: newJobId(),
      status: 'queued',
      code: input.code,
      owner: ownerOf(caller.principal),
      keyId: keyOf(caller.principal),
      private: input.private ?? false,
      limits,
      priority: DEFAULT_PRIORITY,
      account: shareOf(caller.principal, caller.client),
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
    this.metrics.jobSubmitted()
    this.link.send([{ type: 'submit', job: jobSpecOf(job) }])
    return job
  }

  /** The job, unless it is private to an account the caller does not act for (then it is not found, as if it did not exist). */
  private async readable(caller: Caller, id: string): Promise<JobRecord | null> {
    const job = await this.store.getJob(id)
    return job === null || (job.private && !actsFor(caller, job.owner)) ? null : job
  }

  /** The job as the caller may see it: its session only for its owner's keys (a session id of an anonymous session is all it takes to use it). */
  private async viewOf(job: JobRecord, caller: Caller): Promise<JobView> {
    return toJobView(job, await this.store.getOutputs(job.id), { showSession: actsFor(caller, job.owner) })
  }
}
