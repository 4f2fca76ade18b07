/**
 * The web client's calls about who is logged in and what they own: log in
 * and out, who am I, how may I log in, my keys (list, make a sub-key,
 * revoke), my notebooks and my recent cells. All to the page's own
 * cellgate, with the login cookie (and the CSRF token on changes), through
 * api.ts's apiRequest.
 */
// Type-only imports: neither zod nor the schemas reach the bundle.
import type { KeyRequest } from '../protocol/http-keys.ts'
import type { AccountView, CreatedKeyView, KeyView, LoginMethodsView, MeView } from '../protocol/http-principal-views.ts'
import type { JobSummaryView, NotebookSummaryView } from '../protocol/http-views.ts'
import { apiRequest } from './api.ts'

export type { AccountView, CreatedKeyView, JobSummaryView, KeyRequest, KeyView, LoginMethodsView, MeView, NotebookSummaryView }

const BASE = '/api/v1'

function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  return apiRequest<T>(`${BASE}${path}`, { ...init, sameOrigin: true })
}

function post<T>(path: string, body: unknown): Promise<T> {
  return call<T>(path, { method: 'POST', body: JSON.stringify(body) })
}

/** Where the browser goes to log in with OpenID Connect, landing on `next` after. */
export function oidcLoginUrl(next = '/'): string {
  return `${BASE}/login/oidc?next=${encodeURIComponent(next)}`
}

/**
 * @example
 *   await accountApi.login({ name: 'admin', password })
 *   const { keys } = await accountApi.listKeys()
 */
export const accountApi = {
  me: () => call<MeView>('/me'),
  loginMethods: () => call<LoginMethodsView>('/login/methods'),
  login: (body: { name: string; password: string }) => post<{ account: AccountView; expiresAt: string }>('/login', body),
  logout: () => post<{ loggedOut: true }>('/logout', {}),
  /** The login's key and every key below it, parents first. */
  listKeys: () => call<{ keys: KeyView[] }>('/keys'),
  /** A sub-key of the login's key; the answer holds its secret, this once. */
  createKey: (body: KeyRequest) => post<CreatedKeyView>('/keys', body),
  revokeKey: (id: string) => call<KeyView>(`/keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  myNotebooks: () => call<{ notebooks: NotebookSummaryView[] }>('/notebooks?mine=1'),
  myCells: () => call<{ cells: JobSummaryView[] }>('/cells?mine=1'),
}
