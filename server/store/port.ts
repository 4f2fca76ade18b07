/**
 * The store port: everything the web tier keeps (jobs and their outputs,
 * sessions, saved notebooks, and the accounts, keys and audit log of
 * principals-port.ts) goes through this interface. Adapters: SQLite
 * (embedded default, sqlite.ts) and MongoDB (production). Every promise
 * made here is tested against every adapter by the contract suite in
 * test/support/contracts/store.ts.
 *
 * Writes are batched: the server collects what the dispatcher sends during
 * one tick and hands it over as one `apply` call, which an adapter runs as
 * one transaction (SQLite) or one bulk write (MongoDB).
 */
import type { CellError, CellResult, JobSession, JobStatus, Limits, NotebookCell, Output, SessionStatus, Usage } from '../../protocol/index.ts'
import type { PrincipalStore } from './principals-port.ts'

export type * from './principals-port.ts'

/** The owner of what anonymous callers make; an account id otherwise. */
export const ANONYMOUS = 'anonymous'

export interface JobRecord {
  id: string
  status: JobStatus
  code: string
  /** The account that submitted it, or ANONYMOUS. */
  owner: string
  /** The key it was submitted with; null for anonymous. */
  keyId: string | null
  /** Whether only its owner may read it; otherwise its permalink is readable by whoever has it. */
  private: boolean
  limits: Limits
  priority: number
  /**
   * Whose turn it runs in when the dispatcher shares slots between callers
   * (JobSpec.account): the owner's account id, or `anonymous:<client
   * address>` for an anonymous caller. Stored so that a job sent again after
   * a restart keeps its place in its caller's share; a job stored before
   * this field reads back with its owner.
   */
  account: string
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
  /** The session it runs in and which of its cells it is; null for a one-off cell. */
  session: JobSession | null
}

export type { SessionStatus }

/** A stateful session: cells sent to it share one context in one sandbox. */
export interface SessionRecord {
  id: string
  status: SessionStatus
  /** The account that created it, or ANONYMOUS. */
  owner: string
  /** The key it was created with; null for anonymous. */
  keyId: string | null
  /** Who created it, for the limit of sessions per client: the client's IP until there are keys. */
  client: string
  /** The memory limit of its context (every cell of it runs with this). */
  memoryMb: number
  /** Epoch milliseconds. */
  createdAt: number
  /** When the last cell was sent to it (createdAt before the first). */
  lastUsedAt: number
  endedAt: number | null
  /** Why it ended, for its client: deleted, idle, too old, its sandbox died… */
  endReason: string | null
  /** Cells sent to it so far; the next one is cell number `cells + 1`. */
  cells: number
}

/** One cell of a saved notebook, stored as the client sent it. */
export type NotebookCellRecord = NotebookCell

/** A saved notebook: its id is its permalink, so it is short but unguessable. */
export interface NotebookRecord {
  id: string
  title: string
  cells: NotebookCellRecord[]
  /** The account that created it, or ANONYMOUS. */
  owner: string
  /** The key it was created with; null for anonymous. */
  keyId: string | null
  /** Epoch milliseconds. */
  createdAt: number
  updatedAt: number
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

/** When a job was created, started and ended (epoch milliseconds). */
export type JobTimes = Pick<JobRecord, 'createdAt' | 'startedAt' | 'endedAt'>

export interface UpdateResult {
  jobId: string
  /** Whether the transition (if any) applied. */
  transitioned: boolean
  /** Outputs newly stored (not already there). */
  inserted: Output[]
  /**
   * When the transition applied: the job's times as this apply stored them
   * (after a transition to a terminal status, its final ones), so the
   * server can measure wait and run times without reading the job again.
   */
  times?: JobTimes
}

/** What one `deleteEndedJobs` call deleted. */
export interface Deleted {
  jobs: number
  outputs: number
}

export interface StoreHealth {
  ok: boolean
  kind: 'sqlite' | 'mongodb'
  detail?: string
}

export interface Store extends PrincipalStore {
  readonly kind: 'sqlite' | 'mongodb'
  /** Prepares the store (schema, indexes); idempotent. */
  open(): Promise<void>
  close(): Promise<void>
  health(): Promise<StoreHealth>
  /** Inserts a new job; the id must be new. */
  insertJob(job: JobRecord): Promise<void>
  getJob(id: string): Promise<JobRecord | null>
  /**
   * Outputs of a job with seq > afterSeq, in seq order; at most `limit` of
   * them when given, so a long job can be read page by page (the next page
   * is after the last seq of this one).
   */
  getOutputs(jobId: string, afterSeq?: number, limit?: number): Promise<Output[]>
  /** The owner's jobs, newest first, at most `limit` ("my recent cells"). */
  listJobsByOwner(owner: string, limit: number): Promise<JobRecord[]>
  /** Jobs in any of the given statuses, oldest first (recovery after restarts). */
  findJobsByStatus(statuses: readonly JobStatus[], limit?: number): Promise<JobRecord[]>
  /** Applies many updates at once, in order; see JobUpdate. */
  apply(updates: readonly JobUpdate[]): Promise<UpdateResult[]>
  /**
   * Retention: deletes jobs that ended before `endedBefore` (never a queued
   * or running one) with their outputs, the longest ended first, at most
   * `limit` jobs and `limit` outputs a call. A job goes only with the last
   * of its outputs, so no output outlives its job; a job with more outputs
   * than one call may delete is finished by the next calls. When a call
   * deleted fewer than `limit` of both, nothing more is due.
   */
  deleteEndedJobs(endedBefore: number, limit: number): Promise<Deleted>
  /**
   * Stores a new session, unless its client already has `maxActive` active
   * sessions: then stores nothing and returns false. (Checked atomically on
   * SQLite, and within one web instance on MongoDB; there, two creations
   * racing on several web instances may both pass.)
   */
  insertSession(session: SessionRecord, maxActive: number): Promise<boolean>
  getSession(id: string): Promise<SessionRecord | null>
  /**
   * A cell is being sent to an active session: counts it (`cells` + 1) and
   * sets lastUsedAt, atomically. Returns the session as updated, or null when
   * it is unknown or not active.
   */
  useSession(id: string, now: number): Promise<SessionRecord | null>
  /** Ends an active session with its reason; false when it was not active (the first reason stays). */
  endSession(id: string, now: number, reason: string): Promise<boolean>
  /** Active sessions last used before `usedBefore` or created before `createdBefore`, oldest first. */
  findExpiredSessions(usedBefore: number, createdBefore: number, limit?: number): Promise<SessionRecord[]>
  /**
   * Retention: deletes at most `limit` sessions that ended before
   * `endedBefore` (never an active one); returns how many. Their cells are
   * jobs, deleted by deleteEndedJobs on their own schedule.
   */
  deleteEndedSessions(endedBefore: number, limit: number): Promise<number>
  /** Ids of the session's jobs (cells), in cell order. */
  getSessionCells(id: string): Promise<string[]>
  /** Stores a notebook as given, replacing one with the same id (create and save are one upsert). */
  saveNotebook(notebook: NotebookRecord): Promise<void>
  getNotebook(id: string): Promise<NotebookRecord | null>
  /** The owner's notebooks, most recently updated first, at most `limit` ("my notebooks"). */
  listNotebooksByOwner(owner: string, limit: number): Promise<NotebookRecord[]>
  /** Every notebook in id order, at most `limit`, after `afterId` when given (the last id of the page before): copying a store. */
  listNotebooks(limit: number, afterId?: string): Promise<NotebookRecord[]>
}
