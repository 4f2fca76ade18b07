/**
 * The browser's client for the cells API: submit, fetch, cancel, and follow a
 * cell's event stream. Failures become one error type, ApiRequestError, with
 * the server's `{error: {code, message}}` when it sent one, so the page can
 * show a 400's message as it is.
 */
import type { CellError, CellResult, JobStatus, Output, Usage } from '../protocol/job.ts'
import type { JobLinks, JobView } from '../server/job-view.ts'

// Type-only imports: neither the protocol's zod schemas nor server code reach the bundle.
export type { CellError, CellResult, JobStatus, Output, Usage }

/** A cell as GET /api/v1/cells/:id returns it. */
export type Job = JobView

/** What POST /api/v1/cells answers (202): the cell is queued, follow `links.events`. */
export interface Submitted {
  id: string
  status: JobStatus
  links: JobLinks
}

export interface SubmitRequest {
  code: string
  timeoutMs?: number
  memoryMb?: number
}

/** Any failed request: an HTTP error answer, or no answer at all (status 0). */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const BASE = '/api/v1/cells'

/** True once a cell can change no more. */
export function isFinished(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running'
}

/** Where a cell's result can be opened later, in this app. */
export function cellPath(id: string): string {
  return `/cells/${encodeURIComponent(id)}`
}

/**
 * Queues a cell.
 * @example const { id, links } = await submitCell({ code: '1 + 1' })
 */
export function submitCell(body: SubmitRequest, signal?: AbortSignal): Promise<Submitted> {
  return request(BASE, { method: 'POST', body: JSON.stringify(body), signal })
}

export function getCell(id: string, signal?: AbortSignal): Promise<Job> {
  return request(`${BASE}/${encodeURIComponent(id)}`, { signal })
}

/** Asks the server to stop a cell; answers the job as it stands (maybe still running). */
export function cancelCell(id: string): Promise<Job> {
  return request(`${BASE}/${encodeURIComponent(id)}/cancel`, { method: 'POST' })
}

export interface CellEventHandlers {
  status(status: JobStatus): void
  output(output: Output): void
  /** The whole finished job; the stream is closed already. */
  done(job: Job): void
  /** The browser gave up on the stream (HTTP error, wrong type); it is closed already. */
  failed(): void
}

/**
 * Follows a cell's Server-Sent Events. `afterSeq` is the last output seq the
 * caller already has: only later outputs are sent. EventSource itself
 * reconnects after a dropped connection (sending Last-Event-ID); this closes
 * the source after `done` so it does not reconnect to a finished stream.
 * @example const close = followCell(id, 0, handlers); ...; close()
 */
export function followCell(id: string, afterSeq: number, on: CellEventHandlers): () => void {
  const query = afterSeq > 0 ? `?lastEventId=${afterSeq}` : ''
  const source = new EventSource(`${BASE}/${encodeURIComponent(id)}/events${query}`)
  source.addEventListener('status', (e) => on.status(parse<{ status: JobStatus }>(e).status))
  source.addEventListener('output', (e) => on.output(parse<Output>(e)))
  source.addEventListener('done', (e) => {
    source.close()
    on.done(parse<Job>(e))
  })
  source.addEventListener('error', () => {
    // CONNECTING means the browser is retrying by itself; CLOSED means it will not.
    if (source.readyState === EventSource.CLOSED) on.failed()
  })
  return () => source.close()
}

function parse<T>(event: Event): T {
  return JSON.parse((event as MessageEvent<string>).data) as T
}

async function request<T>(url: string, init: RequestInit): Promise<T> {
  let response: Response
  try {
    response = await fetch(url, {
      ...init,
      headers: init.body ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
    })
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause
    throw new ApiRequestError(0, 'network', 'Could not reach the server.')
  }
  const body: unknown = await response.json().catch(() => undefined)
  if (response.ok && body !== undefined) return body as T
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
  if (error && typeof error.message === 'string') {
    throw new ApiRequestError(response.status, String(error.code ?? 'error'), error.message)
  }
  throw new ApiRequestError(
    response.status,
    'http',
    `The server answered ${response.status} ${response.statusText || ''}`.trim() + '.',
  )
}
