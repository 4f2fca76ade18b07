/**
 * How jobs, sessions and notebooks look as rows of the embedded SQLite
 * store (sqlite.ts), and the mapping between those rows and the port's
 * records: JSON columns for what is read and written whole (limits,
 * results, a notebook's cells), 0/1 for booleans, NULL for a job outside
 * any session.
 */
import type { JobStatus } from '../../protocol/index.ts'
import type { JobRecord, NotebookRecord, SessionRecord } from './port.ts'

export interface JobRow {
  id: string
  status: JobStatus
  code: string
  owner: string
  limits: string
  priority: number
  /** NULL in rows stored before fair shares: read back as the owner. */
  account: string | null
  created_at: number
  started_at: number | null
  ended_at: number | null
  result: string | null
  error: string | null
  usage: string | null
  dispatcher_boot: string | null
  sandbox_id: string | null
  session_id: string | null
  session_cell: number | null
  key_id: string | null
  private: 0 | 1
}

export interface SessionRow {
  id: string
  status: SessionRecord['status']
  owner: string
  key_id: string | null
  client: string
  memory_mb: number
  created_at: number
  last_used_at: number
  ended_at: number | null
  end_reason: string | null
  cells: number
}

export interface NotebookRow {
  id: string
  title: string
  cells: string
  owner: string
  key_id: string | null
  created_at: number
  updated_at: number
}

export function jobParams(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    code: job.code,
    owner: job.owner,
    key_id: job.keyId,
    private: job.private ? 1 : 0,
    limits: JSON.stringify(job.limits),
    priority: job.priority,
    account: job.account,
    created_at: job.createdAt,
    started_at: job.startedAt,
    ended_at: job.endedAt,
    result: toJson(job.result),
    error: toJson(job.error),
    usage: toJson(job.usage),
    dispatcher_boot: job.dispatcherBoot,
    sandbox_id: job.sandboxId,
    session_id: job.session?.id ?? null,
    session_cell: job.session?.cell ?? null,
  }
}

export function sessionParams(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    status: session.status,
    owner: session.owner,
    key_id: session.keyId,
    client: session.client,
    memory_mb: session.memoryMb,
    created_at: session.createdAt,
    last_used_at: session.lastUsedAt,
    ended_at: session.endedAt,
    end_reason: session.endReason,
    cells: session.cells,
  }
}

export function fromSessionRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    status: row.status,
    owner: row.owner,
    keyId: row.key_id,
    client: row.client,
    memoryMb: row.memory_mb,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    cells: row.cells,
  }
}

export function toJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

export function fromJobRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    status: row.status,
    code: row.code,
    owner: row.owner,
    keyId: row.key_id,
    private: row.private === 1,
    limits: JSON.parse(row.limits),
    priority: row.priority,
    account: row.account ?? row.owner,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error === null ? null : JSON.parse(row.error),
    usage: row.usage === null ? null : JSON.parse(row.usage),
    dispatcherBoot: row.dispatcher_boot,
    sandboxId: row.sandbox_id,
    session: row.session_id === null ? null : { id: row.session_id, cell: row.session_cell! },
  }
}

export function fromNotebookRow(row: NotebookRow): NotebookRecord {
  return {
    id: row.id, title: row.title, cells: JSON.parse(row.cells), owner: row.owner, keyId: row.key_id, createdAt: row.created_at, updatedAt: row.updated_at,
  }
}
