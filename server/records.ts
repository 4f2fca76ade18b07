/**
 * Stored records as others see them: jobs, sessions and notebooks as HTTP
 * clients get them (ISO timestamps and links, minus what only the server
 * needs: dispatcher boot, sandbox id, priority and account, the session's client), and
 * a job as the dispatcher gets it. The shapes are the protocol's
 * (protocol/http-views.ts, protocol/job.ts).
 */
import { API_BASE, type JobLinks, type JobSpec, type JobSummaryView, type JobView, type NotebookSummaryView, type NotebookView, type Output, type SessionView } from '../protocol/index.ts'
import type { JobRecord, NotebookRecord, SessionRecord } from './store/port.ts'

/** @example jobLinks('AbC123xyz0_-AbCd') // { self: '/api/v1/cells/AbC…', events: '/api/v1/cells/AbC…/events' } */
export function jobLinks(id: string): JobLinks {
  const self = `${API_BASE}/cells/${id}`
  return { self, events: `${self}/events` }
}

/**
 * `showSession`: whether the viewer may see the session it ran in (its
 * owner's keys); a permalink's readers may not, since an anonymous
 * session's id is all it takes to use it.
 *
 * @example toJobView(await store.getJob(id), await store.getOutputs(id)) // { id, status, outputs, …, links }
 */
export function toJobView(job: JobRecord, outputs: Output[], { showSession = false } = {}): JobView {
  return {
    id: job.id,
    status: job.status,
    code: job.code,
    owner: job.owner,
    limits: job.limits,
    outputs,
    result: job.result,
    error: job.error,
    usage: job.usage,
    createdAt: iso(job.createdAt),
    startedAt: job.startedAt === null ? null : iso(job.startedAt),
    endedAt: job.endedAt === null ? null : iso(job.endedAt),
    session: showSession ? job.session?.id ?? null : null,
    links: jobLinks(job.id),
  }
}

/** For lists ("my recent cells"): no outputs, and only the start of the code. */
export function toJobSummaryView(job: JobRecord): JobSummaryView {
  return {
    id: job.id, status: job.status, code: job.code.slice(0, 200), createdAt: iso(job.createdAt),
    endedAt: job.endedAt === null ? null : iso(job.endedAt), links: jobLinks(job.id),
  }
}

/** @example jobSpecOf(job) // { jobId, code, limits, priority, account } and the session when it runs in one */
export function jobSpecOf(job: JobRecord): JobSpec {
  const spec: JobSpec = { jobId: job.id, code: job.code, limits: job.limits, priority: job.priority, account: job.account }
  if (job.session) spec.session = job.session
  return spec
}

/**
 * `cells`: the ids of its jobs in cell order; `expiresAt`: when it ends
 * unless used (shown only while active).
 *
 * @example toSessionView(session, await store.getSessionCells(session.id), expiresAt)
 */
export function toSessionView(session: SessionRecord, cells: string[], expiresAt: number): SessionView {
  return {
    id: session.id,
    status: session.status,
    endReason: session.endReason,
    createdAt: iso(session.createdAt),
    lastUsedAt: iso(session.lastUsedAt),
    expiresAt: session.status === 'active' ? iso(expiresAt) : null,
    endedAt: session.endedAt === null ? null : iso(session.endedAt),
    memoryMb: session.memoryMb,
    cells,
    links: { self: `${API_BASE}/sessions/${session.id}`, cells: `${API_BASE}/cells` },
  }
}

/**
 * Shows neither its owner nor the key it was made with: a permalink is for
 * whoever has it, and the key's id is no business of theirs.
 *
 * @example toNotebookView(notebook).links // { self: '/api/v1/notebooks/Qm3x…', page: '/notebooks/Qm3x…' }
 */
export function toNotebookView(notebook: NotebookRecord): NotebookView {
  const { id, title, cells, createdAt, updatedAt } = notebook
  const path = encodeURIComponent(id)
  return { id, title, cells, createdAt, updatedAt, links: { self: `${API_BASE}/notebooks/${path}`, page: `/notebooks/${path}` } }
}

/** For lists ("my notebooks"): no cells, only how many. */
export function toNotebookSummaryView(notebook: NotebookRecord): NotebookSummaryView {
  const { id, title, cells, createdAt, updatedAt, links } = { ...notebook, links: toNotebookView(notebook).links }
  return { id, title, cellCount: cells.length, createdAt, updatedAt, links }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
