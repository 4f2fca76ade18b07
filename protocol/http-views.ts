/**
 * What HTTP clients get back: the views the API answers with, and its error
 * body. The web tier builds them from its records (server/records.ts);
 * the web client reads them. Types only: nothing here reaches the browser's
 * bundle but names.
 */
import type { CellError, CellResult, JobStatus, Output, Usage } from './job.ts'
import type { Limits } from './limits.ts'
import type { WorkersReport } from './messages.ts'
import type { NotebookCell } from './http-requests.ts'

export interface JobLinks {
  self: string
  events: string
}

/** A cell as `GET /api/v1/cells/:id` (and `?wait=true`, and the stream's `done` event) shows it. */
export interface JobView {
  id: string
  status: JobStatus
  code: string
  owner: string
  limits: Limits
  outputs: Output[]
  result: CellResult | null
  error: CellError | null
  usage: Usage | null
  createdAt: string
  startedAt: string | null
  endedAt: string | null
  /** The session it ran in, shown only to its owner's keys; null for a one-off cell, and for anyone else. */
  session: string | null
  links: JobLinks
}

/** What `POST /api/v1/cells` answers (202): the cell is queued, follow `links.events`. */
export interface SubmittedView {
  id: string
  status: JobStatus
  links: JobLinks
}

export type SessionStatus = 'active' | 'ended'

/** A session as `GET /api/v1/sessions/:id` shows it (and POST and DELETE answer). */
export interface SessionView {
  id: string
  status: SessionStatus
  /** Why it ended; null while active. */
  endReason: string | null
  createdAt: string
  lastUsedAt: string
  /** When it ends unless a cell is sent before (idle timeout), or at its maximum lifespan; null once ended. */
  expiresAt: string | null
  endedAt: string | null
  memoryMb: number
  /** Ids of the cells sent to it, in order. */
  cells: string[]
  links: { self: string; cells: string }
}

/** A saved notebook as `GET /api/v1/notebooks/:id` shows it. */
export interface NotebookView {
  id: string
  title: string
  cells: NotebookCell[]
  /** Epoch milliseconds. */
  createdAt: number
  updatedAt: number
  links: { self: string; page: string }
}

/** A notebook in `GET /api/v1/notebooks?mine=1`: enough to list it and open it. */
export interface NotebookSummaryView {
  id: string
  title: string
  cellCount: number
  /** Epoch milliseconds, as NotebookView's. */
  createdAt: number
  updatedAt: number
  links: NotebookView['links']
}

/** A cell in `GET /api/v1/cells?mine=1`: its status and the start of its code; GET its `links.self` for the rest. */
export interface JobSummaryView {
  id: string
  status: JobStatus
  /** At most the first 200 characters. */
  code: string
  createdAt: string
  endedAt: string | null
  links: JobLinks
}

/** `GET /api/v1/health`. */
export interface HealthView {
  status: 'ok' | 'degraded'
  store: { ok: boolean; kind: string; detail?: string }
  dispatcher: { connected: boolean; bootId: string | null; lastSeenMs: number | null }
  sandboxes: { total: number; connected: number; ready: number; freeSlots: number; queued: number }
}

/** `GET /api/v1/workers`: hosts and sandboxes, as the dispatcher reports them. */
export type WorkersView = WorkersReport

/** Every code an error answer may carry; clients may branch on it. */
export type ApiErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  /** No key, or one that is not valid; WWW-Authenticate says how to send one. */
  | 'unauthenticated'
  /** The key is valid but does not allow this; the message names what it lacks (scope, resource, origin, window, caps). */
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  /** A cell was sent to a session that has ended; the message says why it ended. */
  | 'session_ended'
  /** The client has as many active sessions as it may (config sessions.maxPerClient). */
  | 'too_many_sessions'
  /** The client sent more requests of this kind than it may in a while; Retry-After says when to try again. */
  | 'rate_limited'
  /** The request would take the client past what it may store in a while; Retry-After says when it may. */
  | 'quota_exceeded'
  | 'unavailable'
  | 'internal'

/** Every error answer of the API, whatever its status. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string }
}
