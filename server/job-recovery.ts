/**
 * What keeps every job moving to a terminal state when processes come and
 * go: recovery when a dispatcher boot is seen for the first time (this
 * server just started, or the dispatcher restarted), and a periodic sweep
 * that ends jobs nobody will ever finish, and sessions past their time.
 * A session whose running cell is lost this way has lost its context too,
 * so it ends with the cell; a session whose cells had all ended is checked
 * with the dispatcher (checkSessions), which ends those no sandbox holds.
 */
import type { Config } from '../config/schema.ts'
import { isTerminal, type CellError, type ServerMessage } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { jobSpecOf } from './records.ts'
import { LIVE_STATUSES, type JobRecord, type JobUpdate, type Store, type UpdateResult } from './store/port.ts'

export interface RecoveryDeps {
  store: Pick<Store, 'findJobsByStatus' | 'findExpiredSessions' | 'getSessionCells' | 'getJob'>
  link: Pick<DispatcherLink, 'send'>
  config: Pick<Config, 'server' | 'dispatcher'>
  /** Stores job updates and tells live subscribers (the job service's commit). */
  commit(updates: readonly JobUpdate[]): Promise<UpdateResult[]>
  /** Ends a session and tells the dispatcher (SessionService.endWithReason); false if it was not active. */
  endSession(id: string, reason: string): Promise<boolean>
}

/** Sessions one checkSessions may name (the protocol's bound), and the most checked after one boot. */
const MAX_CHECKED_SESSIONS = 10_000

/** The latest epoch millisecond a JavaScript Date can hold. */
const LATEST_DATE_MS = 8.64e15

/**
 * On a dispatcher boot not seen before: queued jobs are submitted again (the
 * dispatcher ignores ids it already holds), running jobs started by another
 * dispatcher boot end `lost`, since the process that ran them is gone, and
 * the sessions still active are checked with the dispatcher (checkSessions).
 *
 * @example
 *   await recoverAfterBoot(deps, welcome.bootId) // on the first welcome of each boot (dispatcher-inbox.ts)
 */
export async function recoverAfterBoot(deps: RecoveryDeps, bootId: string): Promise<void> {
  const live = await deps.store.findJobsByStatus(LIVE_STATUSES)
  const submits: ServerMessage[] = live.filter((job) => job.status === 'queued').map((job) => ({ type: 'submit', job: jobSpecOf(job) }))
  if (submits.length > 0) deps.link.send(submits)
  const orphans = live.filter((job) => job.status === 'running' && job.dispatcherBoot !== bootId)
  if (orphans.length > 0) {
    const error: CellError = { name: 'DispatcherLost', message: 'the dispatcher running this cell restarted; the cell was lost' }
    await deps.commit(orphans.map((job) => loseJob(job, error, Date.now())))
    await endSessionsOf(deps, orphans, 'the dispatcher holding this session restarted; its context was lost')
  }
  await checkSessions(deps)
}

/**
 * Asks the dispatcher about every active session whose latest cell has
 * ended; it answers sessionEnded for those no sandbox holds (stored by the
 * inbox), so they stop counting against sessions.maxPerClient. A session
 * with a cell not ended is left out: that cell is queued (submitted again
 * above, so the dispatcher holds the session when it reads the check) or
 * its submit is still to be sent; it is not ended under its client's feet.
 *
 * @example
 *   await checkSessions(deps) // link: checkSessions {sessions: ['s1…', 's2…']}
 */
export async function checkSessions(deps: RecoveryDeps): Promise<void> {
  const { store } = deps
  // Last used before the latest time a Date holds (MongoDB stores Dates): every active session.
  const active = await store.findExpiredSessions(LATEST_DATE_MS, 0, MAX_CHECKED_SESSIONS)
  const idle: string[] = []
  for (const session of active) {
    if (session.cells === 0) continue
    const last = (await store.getSessionCells(session.id)).at(-1)
    const job = last === undefined ? null : await store.getJob(last)
    if (job && isTerminal(job.status)) idle.push(session.id)
  }
  if (idle.length > 0) deps.link.send([{ type: 'checkSessions', sessions: idle }])
}

/**
 * Ends `lost` every job queued longer than server.queueTimeoutMs, and every
 * job running past its wall limit plus twice the dispatcher's grace (the
 * dispatcher gets its grace to kill the sandbox, and as long again for its
 * verdict to arrive). Tells the dispatcher to drop them. Returns how many.
 *
 * @example
 *   await sweepStaleJobs(deps, Date.now()) // 2: one stuck in the queue, one never heard of again
 */
export async function sweepStaleJobs(deps: RecoveryDeps, now: number): Promise<number> {
  const { server, dispatcher } = deps.config
  const live = await deps.store.findJobsByStatus(LIVE_STATUSES)
  const stale = live.filter((job) => job.status === 'queued'
    ? now - job.createdAt > server.queueTimeoutMs
    : now - (job.startedAt ?? job.createdAt) > job.limits.wallMs + 2 * dispatcher.graceMs)
  if (stale.length === 0) return 0
  const results = await deps.commit(stale.map((job) => loseJob(job, staleError(job), now)))
  deps.link.send(stale.map((job) => ({ type: 'cancel', jobId: job.id })))
  await endSessionsOf(deps, stale.filter((job) => job.status === 'running'), 'a cell of this session ran far past its time limit and was lost, with the session\'s context')
  return results.filter((r) => r.transitioned).length
}

/**
 * Runs `sweep` every `intervalMs` (one run at a time) until the returned
 * function is called.
 *
 * @example
 *   const stop = startSweep(() => Promise.all([jobs.sweepStale(), sessions.expire()]), config.server.sweepIntervalMs, logger)
 */
export function startSweep(sweep: () => Promise<unknown>, intervalMs: number, logger: Logger): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    sweep()
      .catch((err: unknown) => logger.error({ err }, 'sweep failed'))
      .finally(() => (running = false))
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

async function endSessionsOf(deps: RecoveryDeps, lost: readonly JobRecord[], reason: string): Promise<void> {
  const ids = new Set(lost.flatMap((job) => (job.session ? [job.session.id] : [])))
  for (const id of ids) {
    await deps.endSession(id, reason)
  }
}

function loseJob(job: JobRecord, error: CellError, now: number): JobUpdate {
  // Guarded on the status we saw: if the job moved on meanwhile, its own end wins.
  return { jobId: job.id, transition: { from: [job.status], to: 'lost', patch: { endedAt: now, error } } }
}

function staleError(job: JobRecord): CellError {
  return job.status === 'queued'
    ? { name: 'QueueTimeout', message: 'no sandbox started this cell in time; the cell was dropped' }
    : { name: 'RunTimeout', message: 'this cell ran far past its wall time limit and nothing ended it; the cell was lost' }
}
