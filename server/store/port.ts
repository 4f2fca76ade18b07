/**
 * The store port: everything the web tier keeps (jobs and their outputs)
 * goes through this interface. Adapters: SQLite (embedded default, sqlite.ts)
 * and MongoDB (production). Every promise made here is tested against every
 * adapter by the contract suite in contract.ts.
 *
 * Writes are batched: the server collects what the dispatcher sends during
 * one tick and hands it over as one `apply` call, which an adapter runs as
 * one transaction (SQLite) or one bulk write (MongoDB).
 */
import type { CellError, CellResult, JobStatus, Limits, Output, Usage } from '../../protocol/index.ts'

export interface JobRecord {
  id: string
  status: JobStatus
  code: string
  owner: string
  limits: Limits
  priority: number
  /** Epoch milliseconds. */
  createdAt: number
  startedAt: number | null
  endedAt: number | null
  result: CellResult | null
  error: CellError | null
  usage: Usage | null
  /** The dispatcher boot that started the job; a running job from another boot was lost with it. */
  dispatcherBoot: string | null
  sandboxId: string | null
}

/** Statuses in which a job is still going, and still accepts outputs (see JobUpdate). */
export const LIVE_STATUSES: readonly JobStatus[] = ['queued', 'running']

/** Fields a status transition may set along with the status. */
export type JobPatch = Partial<Pick<JobRecord, 'startedAt' | 'endedAt' | 'result' | 'error' | 'usage' | 'dispatcherBoot' | 'sandboxId'>>

/**
 * One change to one job. Outputs are inserted idempotently (a (jobId, seq)
 * already stored is skipped), and only while the job is `queued` or
 * `running`: outputs of a finished (or unknown) job are dropped. Outputs are
 * applied before the transition of the same update. The transition applies
 * only if the job's current status is one of `from`, so a late or repeated
 * message can never move a finished job back.
 */
export interface JobUpdate {
  jobId: string
  outputs?: Output[]
  transition?: { from: readonly JobStatus[]; to: JobStatus; patch?: JobPatch }
}

export interface UpdateResult {
  jobId: string
  /** Whether the transition (if any) applied. */
  transitioned: boolean
  /** Outputs newly stored (not already there). */
  inserted: Output[]
}

export interface StoreHealth {
  ok: boolean
  kind: 'sqlite' | 'mongodb'
  detail?: string
}

export interface Store {
  readonly kind: 'sqlite' | 'mongodb'
  /** Prepares the store (schema, indexes); idempotent. */
  open(): Promise<void>
  close(): Promise<void>
  health(): Promise<StoreHealth>
  /** Inserts a new job; the id must be new. */
  insertJob(job: JobRecord): Promise<void>
  getJob(id: string): Promise<JobRecord | null>
  /** Outputs of a job with seq > afterSeq, in seq order. */
  getOutputs(jobId: string, afterSeq?: number): Promise<Output[]>
  /** Jobs in any of the given statuses, oldest first (recovery after restarts). */
  findJobsByStatus(statuses: readonly JobStatus[], limit?: number): Promise<JobRecord[]>
  /** Applies many updates at once, in order; see JobUpdate. */
  apply(updates: readonly JobUpdate[]): Promise<UpdateResult[]>
}
