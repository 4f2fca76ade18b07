/**
 * How jobs and outputs look as MongoDB documents, and the mapping between
 * those documents and the port's records (port.ts).
 *
 * - A job's id is its `_id`, so fetching a job is a lookup on the primary index.
 * - Times are BSON dates (readable in mongosh, usable by a TTL index later);
 *   the port speaks epoch milliseconds.
 * - A cell's result value (`result.json`) is kept as JSON text: it is whatever
 *   the user's code returned, and its keys may contain '.' or start with '$',
 *   which FerretDB refuses in documents and MongoDB only half supports.
 * - Outputs are one small document each, `{jobId, seq, stream, mime, data}`,
 *   with a unique index on (jobId, seq) that makes inserting them idempotent.
 * - A session is one document, its id its `_id`; a job names its session as
 *   `session: {id, cell}` (null for a one-off cell).
 * - Fields added after a collection's first release are optional in its
 *   document type and read back with their defaults (ANONYMOUS, null,
 *   false, the owner), so documents written before them stay readable as they are.
 */
import type { ObjectId } from 'mongodb'
import type { CellError, CellResult, JobSession, JobStatus, Limits, Output, Usage } from '../../protocol/index.ts'
import { ANONYMOUS, type JobPatch, type JobRecord, type NotebookRecord, type SessionRecord } from './port.ts'

export interface JobDoc {
  _id: string
  status: JobStatus
  code: string
  owner: string
  /** Absent in documents written before keys existed, as `private` is. */
  keyId?: string | null
  private?: boolean
  limits: Limits
  priority: number
  /** Absent in documents written before fair shares: read back as the owner. */
  account?: string
  createdAt: Date
  startedAt: Date | null
  endedAt: Date | null
  result: ResultDoc | null
  error: CellError | null
  usage: Usage | null
  dispatcherBoot: string | null
  sandboxId: string | null
  /** Absent in documents written before sessions existed. */
  session?: JobSession | null
  /** The apply() round that made the job's last transition (see mongo-apply-plan.ts). */
  applyId?: ObjectId
}

export interface ResultDoc {
  text: string
  /** The result value as JSON text. */
  json?: string
}

export interface OutputDoc extends Output {
  jobId: string
}

export function toJobDoc(job: JobRecord): JobDoc {
  return {
    _id: job.id,
    status: job.status,
    code: job.code,
    owner: job.owner,
    keyId: job.keyId,
    private: job.private,
    limits: job.limits,
    priority: job.priority,
    account: job.account,
    createdAt: new Date(job.createdAt),
    startedAt: toDate(job.startedAt),
    endedAt: toDate(job.endedAt),
    result: toResultDoc(job.result),
    error: job.error,
    usage: job.usage,
    dispatcherBoot: job.dispatcherBoot,
    sandboxId: job.sandboxId,
    session: job.session,
  }
}

export function fromJobDoc(doc: JobDoc): JobRecord {
  return {
    id: doc._id,
    status: doc.status,
    code: doc.code,
    owner: doc.owner,
    keyId: doc.keyId ?? null,
    private: doc.private ?? false,
    limits: doc.limits,
    priority: doc.priority,
    account: doc.account ?? doc.owner,
    createdAt: doc.createdAt.getTime(),
    startedAt: doc.startedAt?.getTime() ?? null,
    endedAt: doc.endedAt?.getTime() ?? null,
    result: fromResultDoc(doc.result),
    error: doc.error,
    usage: doc.usage,
    dispatcherBoot: doc.dispatcherBoot,
    sandboxId: doc.sandboxId,
    session: doc.session ?? null,
  }
}

export interface SessionDoc {
  _id: string
  status: SessionRecord['status']
  owner: string
  /** Absent in documents written before keys existed. */
  keyId?: string | null
  client: string
  memoryMb: number
  createdAt: Date
  lastUsedAt: Date
  endedAt: Date | null
  endReason: string | null
  cells: number
}

export function toSessionDoc(session: SessionRecord): SessionDoc {
  const { id, createdAt, lastUsedAt, endedAt, ...rest } = session
  return { _id: id, ...rest, createdAt: new Date(createdAt), lastUsedAt: new Date(lastUsedAt), endedAt: toDate(endedAt) }
}

export function fromSessionDoc(doc: SessionDoc): SessionRecord {
  return {
    id: doc._id,
    status: doc.status,
    owner: doc.owner,
    keyId: doc.keyId ?? null,
    client: doc.client,
    memoryMb: doc.memoryMb,
    createdAt: doc.createdAt.getTime(),
    lastUsedAt: doc.lastUsedAt.getTime(),
    endedAt: doc.endedAt?.getTime() ?? null,
    endReason: doc.endReason,
    cells: doc.cells,
  }
}

/**
 * A saved notebook. Its cells are JSON text: they hold results' JSON values
 * and outputs, whose keys may contain '.' or start with '$' (refused by
 * FerretDB), and they are only ever read and written whole.
 */
export interface NotebookDoc {
  _id: string
  title: string
  cells: string
  /** Absent in documents written before owners existed, as `keyId` is. */
  owner?: string
  keyId?: string | null
  createdAt: Date
  updatedAt: Date
}

export function toNotebookDoc(notebook: NotebookRecord): NotebookDoc {
  const { id, title, cells, owner, keyId, createdAt, updatedAt } = notebook
  return { _id: id, title, cells: JSON.stringify(cells), owner, keyId, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) }
}

export function fromNotebookDoc(doc: NotebookDoc): NotebookRecord {
  return {
    id: doc._id,
    title: doc.title,
    cells: JSON.parse(doc.cells),
    owner: doc.owner ?? ANONYMOUS,
    keyId: doc.keyId ?? null,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  }
}

/**
 * The `$set` of a transition's patch: the fields the patch names, as the
 * SQLite adapter does (a named field whose value is undefined becomes null).
 */
export function patchToSet(patch: JobPatch): Partial<JobDoc> {
  const set: Partial<JobDoc> = {}
  if ('startedAt' in patch) set.startedAt = toDate(patch.startedAt ?? null)
  if ('endedAt' in patch) set.endedAt = toDate(patch.endedAt ?? null)
  if ('result' in patch) set.result = toResultDoc(patch.result ?? null)
  if ('error' in patch) set.error = patch.error ?? null
  if ('usage' in patch) set.usage = patch.usage ?? null
  if ('dispatcherBoot' in patch) set.dispatcherBoot = patch.dispatcherBoot ?? null
  if ('sandboxId' in patch) set.sandboxId = patch.sandboxId ?? null
  return set
}

export function toOutputDoc(jobId: string, output: Output): OutputDoc {
  return { jobId, seq: output.seq, stream: output.stream, mime: output.mime, data: output.data }
}

/** What getOutputs reads of an output document. */
export const OUTPUT_PROJECTION = { _id: 0, seq: 1, stream: 1, mime: 1, data: 1 } as const

/** @example toDate(job.endedAt) // a BSON date, or null for a time not reached yet */
export function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

function toResultDoc(result: CellResult | null): ResultDoc | null {
  if (result === null) return null
  return result.json === undefined ? { text: result.text } : { text: result.text, json: JSON.stringify(result.json) }
}

function fromResultDoc(doc: ResultDoc | null): CellResult | null {
  if (doc === null) return null
  return doc.json === undefined ? { text: doc.text } : { text: doc.text, json: JSON.parse(doc.json) }
}
