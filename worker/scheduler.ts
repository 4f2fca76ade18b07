/**
 * The dispatcher's job table and its rules: queue by priority, accounts
 * taking turns within one (fair-queue.ts), hand jobs to sandboxes that gave
 * credits, relay what happens to each job to the server that submitted it,
 * and make sure every job ends:
 *
 * - a sandbox that dies: a job it was sent but had not started is queued
 *   again once (a second loss ends it `lost`); a started job ends `lost`;
 * - a job its sandbox has not ended within wallMs + graceMs of `run`: the
 *   sandbox is killed, and the rule above applies;
 * - a sandbox that sends more outputs than the job's limits allow (counted
 *   as the sandbox counts them, protocol/output-bytes.ts): the job ends
 *   `error` (OutputLimitExceeded) and is cancelled in the sandbox.
 *
 * Cells of a session (sessions.ts) go only to the sandbox holding the
 * session, one at a time, ahead of the common queue. A session cell is never
 * queued again after its sandbox died: its context died with it, so it ends
 * `lost`, and so does the session (the server is told with sessionEnded).
 *
 * It sends nothing itself: frames go out through the functions passed in.
 */
import { encode, outputCost, runJobOf, type CellError, type JobEnd, type JobSpec, type MessageOf, type OutputBody, type SandboxMessage } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import { DispatchJob } from './job.ts'
import type { DispatcherMetrics } from './metrics.ts'
import type { Pool, Sandbox } from './pool.ts'
import { FairQueue } from './fair-queue.ts'
import { SANDBOX_GONE, SessionTable, type DispatchSession } from './sessions.ts'

/** JobSpec priorities are 0–9. */
const PRIORITY_LEVELS = 10
/** Sends of one job to a sandbox; it is lost when the sandbox dies before `started` this many times. */
const MAX_ATTEMPTS = 2

export interface SchedulerOptions {
  /** The dispatcher's boot id, carried by `started` so the server can tell which boot ran a job. */
  bootId: string
  graceMs: number
  pool: Pool
  toServer(serverId: string, frame: Buffer): void
  toSandbox(sandbox: Sandbox, frame: Buffer): void
  metrics: DispatcherMetrics
  /** The process's logger; the scheduler logs as component `scheduler`. */
  log: Logger
}

export class Scheduler {
  private readonly jobs = new Map<string, DispatchJob>()
  private readonly byServer = new Map<string, Set<DispatchJob>>()
  private readonly queue = new FairQueue<DispatchJob>(PRIORITY_LEVELS)
  private readonly sessions = new SessionTable()
  private readonly log: Logger

  constructor(private readonly options: SchedulerOptions) {
    this.log = options.log.child({ component: 'scheduler' })
  }

  get queued(): number {
    return this.queue.size
  }

  /** Queued jobs per priority (index = priority), for the queue-depth gauge. */
  queuedByPriority(): readonly number[] {
    return this.queue.sizes()
  }

  /** Queues a job for the server; false if the jobId is already known (a repeated submit). */
  submit(serverId: string, spec: JobSpec): boolean {
    if (this.jobs.has(spec.jobId)) return false
    const job = new DispatchJob(spec, serverId)
    this.jobs.set(job.id, job)
    let mine = this.byServer.get(serverId)
    if (!mine) this.byServer.set(serverId, (mine = new Set()))
    mine.add(job)
    if (spec.session) {
      const gone = this.sessions.add(job)
      if (gone !== null) {
        this.finish(job, { status: 'lost', error: { name: 'SessionEnded', message: gone } })
        this.options.toServer(serverId, encode({ type: 'sessionEnded', session: spec.session.id, reason: gone }))
        return true
      }
    } else {
      job.queueHandle = this.queue.push(job, spec.priority, spec.account)
    }
    this.pump()
    return true
  }

  /**
   * The server ended the session: its waiting cells end `cancelled`, the
   * cell in its sandbox is cancelled there, and the sandbox drops the context.
   */
  endSession(id: string): void {
    const session = this.sessions.end(id, 'the session was ended')
    if (!session) return
    for (const job of session.waiting) this.finish(job, { status: 'cancelled', error: { name: 'SessionEnded', message: 'the session ended before this cell ran' } })
    if (session.current) this.cancelInSandbox(session.current)
    if (session.sandbox && session.sandbox.retired === null) this.options.toSandbox(session.sandbox, encode({ type: 'endSession', session: id }))
  }

  /** The sandbox holding the session says its context is gone (validated: it holds the session). */
  sessionLost(sandbox: Sandbox, id: string, reason: string): boolean {
    const session = this.sessions.get(id)
    if (session?.sandbox !== sandbox) return false
    this.loseSession(session, reason)
    return true
  }

  /**
   * The server holds these sessions active, their cells all ended: each one
   * no sandbox holds (this dispatcher restarted since, or it ended while the
   * server was away) ends, and the server is told why.
   */
  checkSessions(serverId: string, ids: readonly string[]): void {
    for (const id of ids) {
      if (this.sessions.get(id)) continue
      const reason = this.sessions.endedReason(id) ?? SANDBOX_GONE
      this.sessions.end(id, reason)
      this.options.toServer(serverId, encode({ type: 'sessionEnded', session: id, reason }))
    }
  }

  /** Queued: ends `cancelled` now. In a sandbox: asks the sandbox, which ends it. Else: nothing. */
  cancel(jobId: string): void {
    const job = this.jobs.get(jobId)
    if (!job || job.state === 'ended') return
    if (job.state === 'queued') {
      if (job.queueHandle) this.queue.remove(job.queueHandle)
      else this.sessions.unqueue(job)
      job.queueHandle = null
      this.finish(job, { status: 'cancelled' })
    } else {
      this.cancelInSandbox(job)
    }
  }

  /** The server stored the job's messages up to `upTo`; a job whose `end` is stored is forgotten. */
  ack(serverId: string, jobId: string, upTo: number): void {
    const job = this.jobs.get(jobId)
    if (!job || job.serverId !== serverId) return
    if (job.ack(upTo)) {
      this.jobs.delete(jobId)
      this.byServer.get(serverId)?.delete(job)
    }
  }

  /** The jobs a server submitted that the dispatcher still holds. */
  jobsOf(serverId: string): Iterable<DispatchJob> {
    return this.byServer.get(serverId) ?? []
  }

  /** Hands queued jobs to sandboxes with credits, as long as there are both; sessions' cells first. */
  pump(): void {
    const { pool } = this.options
    if (this.sessions.ready.size > 0) this.pumpSessions()
    while (this.queue.size > 0) {
      const sandbox = pool.next()
      if (!sandbox) return
      const job = this.queue.shift()!
      job.queueHandle = null
      this.send(sandbox, job)
    }
  }

  /** Each session with a cell ready sends it to its own sandbox when that has a free slot (a new session: to the least loaded). */
  private pumpSessions(): void {
    for (const session of this.sessions.ready) {
      const sandbox = session.sandbox ?? this.options.pool.leastSessions()
      if (!sandbox || sandbox.free === 0) continue
      this.send(sandbox, this.sessions.take(session, sandbox))
    }
  }

  private send(sandbox: Sandbox, job: DispatchJob): void {
    const { pool } = this.options
    job.state = 'sent'
    job.sandbox = sandbox
    job.attempts++
    job.sentAt = performance.now()
    this.options.metrics.jobSent(job)
    pool.assign(sandbox, job)
    this.options.toSandbox(sandbox, encode({ type: 'run', job: runJobOf(job.spec) }))
    const limitMs = job.spec.limits.wallMs + this.options.graceMs
    job.deadline = setTimeout(() => {
      if (job.sandbox !== sandbox) return
      this.log.warn({ jobId: job.id, sandboxId: sandbox.id, limitMs }, 'job not ended within its wall time and grace: killing its sandbox')
      pool.retire(sandbox, `job ${job.id} did not end within its wall time + ${this.options.graceMs} ms grace`)
    }, limitMs)
  }

  // ---- what the sandbox holding the job reports (already validated) ----

  started(sandbox: Sandbox, job: DispatchJob): boolean {
    if (job.state !== 'sent') return false
    job.state = 'running'
    this.options.toServer(job.serverId, job.started(this.options.bootId, sandbox.id))
    return true
  }

  output(job: DispatchJob, body: OutputBody): boolean {
    if (job.state !== 'running') return job.state === 'ended' // output still draining after the dispatcher ended it
    const { outputBytes, outputs } = job.spec.limits
    job.outputBytes += outputCost(body.data)
    if (++job.outputs > outputs || job.outputBytes > outputBytes) {
      const message = `the cell wrote more than its output limit of ${outputs} outputs or ${outputBytes} bytes`
      this.finish(job, { status: 'error', error: { name: 'OutputLimitExceeded', message } })
      this.cancelInSandbox(job)
    } else {
      this.options.toServer(job.serverId, job.output(body))
    }
    return true
  }

  ended(sandbox: Sandbox, job: DispatchJob, end: MessageOf<SandboxMessage, 'end'>): void {
    this.leaveSandbox(job)
    this.options.pool.release(sandbox, job.id)
    if (job.state !== 'ended') this.finish(job, { status: end.status, result: end.result, error: end.error, usage: end.usage })
    // The sandbox may have had a free slot already, so no onFree will come for the session's next cell.
    if (job.spec.session && this.sessions.left(job)) this.pump()
  }

  /**
   * The dispatcher refused a frame the sandbox sent about this job: the job
   * ends `error` now and is cancelled in the sandbox, which keeps its other
   * jobs. False when the job had ended already (a later frame of the same fault).
   */
  refused(job: DispatchJob, error: CellError): boolean {
    if (job.state === 'ended') return false
    this.finish(job, { status: 'error', error })
    this.cancelInSandbox(job)
    return true
  }

  /** The cell of session `id` that `sandbox` holds now, if it holds the session. */
  sessionCell(sandbox: Sandbox, id: string): DispatchJob | undefined {
    const session = this.sessions.get(id)
    return session?.sandbox === sandbox ? session.current ?? undefined : undefined
  }

  /** The sandbox is dead: its jobs are queued again or end, as the rules say. */
  sandboxRetired(sandbox: Sandbox, reason: string): void {
    const sessionLost = `the sandbox holding this session died (${reason})`
    for (const job of sandbox.jobs.values()) {
      this.leaveSandbox(job)
      if (job.state === 'ended') continue
      if (job.spec.session) {
        // Sent or running, its session's context is gone: running it elsewhere would run it in an empty one.
        this.finish(job, { status: 'lost', error: lostError(`${sessionLost}; the session ended`) })
      } else if (job.state === 'running') {
        this.finish(job, { status: 'lost', error: lostError(`the sandbox process running this cell died (${reason})`) })
      } else if (job.cancelRequested) {
        this.finish(job, { status: 'cancelled' })
      } else if (job.attempts < MAX_ATTEMPTS) {
        job.state = 'queued'
        job.queueHandle = this.queue.unshift(job, job.spec.priority, job.spec.account)
      } else {
        this.finish(job, { status: 'lost', error: lostError(`the sandbox process died before this cell started, ${job.attempts} times (last: ${reason})`) })
      }
    }
    sandbox.jobs.clear()
    for (const id of [...sandbox.sessions]) this.loseSession(this.sessions.get(id)!, sessionLost)
    this.pump()
  }

  /** Stops the deadline timers (the only ones are on jobs a sandbox holds). */
  close(): void {
    for (const sandbox of this.options.pool.list()) for (const job of sandbox.jobs.values()) this.leaveSandbox(job)
  }

  private cancelInSandbox(job: DispatchJob): void {
    if (job.cancelRequested || !job.sandbox) return
    job.cancelRequested = true
    this.options.toSandbox(job.sandbox, encode({ type: 'cancel', jobId: job.id }))
  }

  private leaveSandbox(job: DispatchJob): void {
    if (job.deadline) clearTimeout(job.deadline)
    job.deadline = null
    job.sandbox = null
  }

  private finish(job: DispatchJob, end: JobEnd): void {
    this.options.metrics.jobEnded(job, end.status)
    this.options.toServer(job.serverId, job.end(end))
  }

  /** The session's context is gone: its waiting cells end `lost`, and its server is told. */
  private loseSession(session: DispatchSession, reason: string): void {
    this.sessions.end(session.id, reason)
    for (const job of session.waiting) this.finish(job, { status: 'lost', error: { name: 'SessionEnded', message: reason } })
    this.options.toServer(session.serverId, encode({ type: 'sessionEnded', session: session.id, reason }))
  }
}

function lostError(message: string): CellError {
  return { name: 'SandboxLost', message }
}
