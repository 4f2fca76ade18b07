/**
 * The browser's client for the cells API: submit, fetch, cancel, and follow a
 * cell's event stream, start sessions, and keep notebooks; bound to one cellgate's origin
 * (the page's own for the app, the script's for embedded cells). Failures
 * become one error type, ApiRequestError, with the server's
 * `{error: {code, message}}` when it sent one, so the page can show a 400's
 * message as it is. Requests to the page's own cellgate carry the login
 * cookie (`credentials: 'same-origin'`) and, when they change something,
 * the CSRF token the server asks of a cookie-signed request; other sites'
 * pages (embedded cells) send neither. Keys, logins and "mine" are in
 * account-api.ts, over the same `apiRequest`.
 */
import type { CellRequest, NotebookCell as NotebookCellShape, NotebookRequest as NotebookRequestShape } from '../protocol/http-requests.ts'
import type { JobView, NotebookView, SessionView, SubmittedView } from '../protocol/http-views.ts'
import type { CellError, CellResult, JobStatus, Output, Usage } from '../protocol/job.ts'

// Type-only imports: the protocol's zod schemas do not reach the bundle, only its types.
export type { CellError, CellResult, JobStatus, Output, Usage }

/** A cell as GET /api/v1/cells/:id returns it. */
export type Job = JobView

/** What POST /api/v1/cells answers (202): the cell is queued, follow `links.events`. */
export type Submitted = SubmittedView

export type SubmitRequest = CellRequest

/** What POST /api/v1/sessions answers (201). */
export interface SessionCreated {
  id: string
  links: Record<string, string>
}

/** A saved notebook as GET /api/v1/notebooks/:id returns it. */
export type Notebook = NotebookView
export type NotebookCell = NotebookCellShape

/** What POST and PUT /api/v1/notebooks take. */
export type NotebookRequest = NotebookRequestShape

/** A session as GET /api/v1/sessions/:id returns it. */
export type Session = SessionView

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

/**
 * Any failure as an ApiRequestError, for a page to show: a request's as it is, anything else (a bug) as a client error.
 * @example catch (e) { setFailure(toApiError(e)) }
 */
export function toApiError(e: unknown): ApiRequestError {
  if (e instanceof ApiRequestError) return e
  return new ApiRequestError(0, 'client', e instanceof Error ? e.message : String(e))
}

/** True once a cell can change no more. */
export function isFinished(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running'
}

/** Where a saved notebook is opened, in this app: its permalink. */
export function notebookPath(id: string): string {
  return `/notebooks/${encodeURIComponent(id)}`
}

/** Where a cell's result can be opened later, in this app. */
export function cellPath(id: string): string {
  return `/cells/${encodeURIComponent(id)}`
}

export interface CellEventHandlers {
  status(status: JobStatus): void
  output(output: Output): void
  /** The whole finished job; the stream is closed already. */
  done(job: Job): void
  /** The stream broke or could not be opened; it is closed already, and the caller decides when to try again. */
  failed(): void
}

/** The calls a page makes, bound to one cellgate. */
export interface CellsApi {
  /**
   * Queues a cell.
   * @example const { id, links } = await api.submitCell({ code: '1 + 1' })
   */
  submitCell(body: SubmitRequest, signal?: AbortSignal): Promise<Submitted>
  getCell(id: string, signal?: AbortSignal): Promise<Job>
  /** Asks the server to stop a cell; answers the job as it stands (maybe still running). */
  cancelCell(id: string): Promise<Job>
  /**
   * Opens a cell's Server-Sent Events once. `afterSeq` is the last output seq
   * the caller already has: only later outputs are sent. The source is closed
   * after `done` and at the first error, rather than left to EventSource's own
   * reconnecting, so one policy (follow/follow-cell.ts) decides how to go on.
   * @example const close = api.followCell(id, 0, handlers); ...; close()
   */
  followCell(id: string, afterSeq: number, on: CellEventHandlers): () => void
  /** Starts a session: cells submitted with its id share their variables. */
  createSession(): Promise<SessionCreated>
  /** A session's state: whether it is still active, and why it ended. */
  getSession(id: string): Promise<Session>
  /** Ends a session; `keepalive` lets the request outlive the page (on pagehide). */
  endSession(id: string, keepalive?: boolean): Promise<Session>
  /** Made without logging in, it comes with `key`: the secret that saves this notebook and nothing else. */
  createNotebook(body: NotebookRequest): Promise<Notebook & { key?: string }>
  getNotebook(id: string, signal?: AbortSignal): Promise<Notebook>
  /**
   * Saves a stored notebook again (replaces its title and cells); `key`, the
   * notebook's own key (an anonymous notebook's), is sent instead of the login.
   */
  saveNotebook(id: string, body: NotebookRequest, key?: string): Promise<Notebook>
}

/**
 * The API of the cellgate at `origin` ('' for the page's own, as the app is
 * served by cellgate; an absolute origin for embedded cells on other sites),
 * its requests made with `key` (`Authorization: Bearer`) when one is given:
 * an embedding page's publishable key. The event stream goes without it
 * (EventSource sends no headers): a cell's stream is readable by whoever
 * has its id, as its permalink is, unless the cell is private, which no
 * embedded cell is.
 * @example const api = cellsApi('https://cells.example.org', 'cg_pk_…')
 */
export function cellsApi(origin: string, key?: string): CellsApi {
  // A request's own key (an anonymous notebook's) goes before the embedding page's.
  const request = <T>(url: string, init: RequestInit & { key?: string | undefined }) => apiRequest<T>(url, { ...init, key: init.key ?? key, sameOrigin: origin === '' })
  const cells = `${origin}/api/v1/cells`
  const cell = (id: string) => `${cells}/${encodeURIComponent(id)}`
  const session = (id: string) => `${origin}/api/v1/sessions/${encodeURIComponent(id)}`
  const notebooks = `${origin}/api/v1/notebooks`
  const notebook = (id: string) => `${notebooks}/${encodeURIComponent(id)}`
  return {
    submitCell: (body, signal) => request(cells, { method: 'POST', body: JSON.stringify(body), signal }),
    getCell: (id, signal) => request(cell(id), { signal }),
    cancelCell: (id) => request(`${cell(id)}/cancel`, { method: 'POST' }),
    createSession: () => request(`${origin}/api/v1/sessions`, { method: 'POST', body: '{}' }),
    getSession: (id) => request(session(id), {}),
    endSession: (id, keepalive = false) => request(session(id), { method: 'DELETE', keepalive }),
    createNotebook: (body) => request<Notebook & { key?: string }>(notebooks, { method: 'POST', body: JSON.stringify(body) }),
    getNotebook: (id, signal) => request(notebook(id), { signal }),
    saveNotebook: (id, body, key) => request(notebook(id), { method: 'PUT', body: JSON.stringify(body), key }),
    followCell(id, afterSeq, on) {
      const query = afterSeq > 0 ? `?lastEventId=${afterSeq}` : ''
      const source = new EventSource(`${cell(id)}/events${query}`)
      source.addEventListener('status', (e) => on.status(parse<{ status: JobStatus }>(e).status))
      source.addEventListener('output', (e) => on.output(parse<Output>(e)))
      source.addEventListener('done', (e) => {
        source.close()
        on.done(parse<Job>(e))
      })
      source.addEventListener('error', () => {
        source.close()
        on.failed()
      })
      return () => source.close()
    },
  }
}

/** The app's API: the cellgate that serves the page. */
export const sameOriginApi = cellsApi('')

function parse<T>(event: Event): T {
  return JSON.parse((event as MessageEvent<string>).data) as T
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'DELETE'])

/** The CSRF token the server set beside the login cookie; none when not logged in. */
function csrfToken(): string | null {
  const match = /(?:^|;\s*)cellgate_csrf=([^;]*)/.exec(document.cookie)
  return match ? decodeURIComponent(match[1]!) : null
}

/**
 * One request to the API, its answer parsed, any failure an ApiRequestError.
 * `sameOrigin`: to the page's own cellgate (the login cookie and the CSRF
 * token go with it); `key`: sent as `Authorization: Bearer`, which the
 * server then uses instead of the cookie.
 * @example const me = await apiRequest<MeView>('/api/v1/me', { sameOrigin: true })
 */
export async function apiRequest<T>(url: string, { sameOrigin = false, key, ...init }: RequestInit & { sameOrigin?: boolean; key?: string | undefined }): Promise<T> {
  const headers: Record<string, string> = init.body ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' }
  if (key !== undefined) headers.authorization = `Bearer ${key}`
  const csrf = sameOrigin && UNSAFE_METHODS.has(init.method ?? 'GET') ? csrfToken() : null
  if (csrf !== null) headers['x-cellgate-csrf'] = csrf
  let response: Response
  try {
    response = await fetch(url, { ...init, headers, credentials: sameOrigin ? 'same-origin' : 'omit' })
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
