/**
 * Principals for tests: the admin key every test server starts with (as
 * CELLGATE_BOOTSTRAP_KEY), and requests made with a key.
 */
import type { Authenticator, Caller } from '../../server/caller.ts'

export const ADMIN_KEY = 'cg_sk_' + 'T'.repeat(20) + 'estAdminKeyForTests_123'

/** @example fetch(url, { headers: withKey(ADMIN_KEY) }) */
export function withKey(secret: string, headers: Record<string, string> = {}): Record<string, string> {
  return { ...headers, Authorization: `Bearer ${secret}` }
}

/** A service caller acting through the key with this secret, as the auth middleware would make it. */
export async function keyCaller(auth: Authenticator, secret: string, client = '127.0.0.1'): Promise<Caller> {
  const principal = await auth.resolve(secret)
  if (principal === null) throw new Error('not a live key')
  return { client, origin: null, principal }
}

/** What a browser holds after logging in: the cookies it sends, and the CSRF token its page echoes. */
export interface LoggedIn {
  cookie: string
  csrf: string
  res: Response
}

/**
 * Logs in through POST /api/v1/login of an in-process app.
 * @example
 *   const { cookie, csrf } = await logIn(s.app, 'ada', PASSWORD)
 *   await s.app.request('/api/v1/keys', { method: 'POST', headers: { Cookie: cookie, 'X-Cellgate-CSRF': csrf }, body })
 */
export async function logIn(app: { request(path: string, init: RequestInit): Response | Promise<Response> }, name: string, password: string): Promise<LoggedIn> {
  const res = await app.request('/api/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) })
  return { ...loginCookiesOf(res), res }
}

/** The login cookies an answer set (POST /login, the OIDC callback), as a Cookie header, and the CSRF token. */
function loginCookiesOf(res: Response): { cookie: string; csrf: string } {
  const cookies = res.headers.getSetCookie()
  const value = (cookieName: string) => cookies.find((c) => c.startsWith(`${cookieName}=`))?.split(';')[0]?.split('=')[1] ?? ''
  return { cookie: `cellgate_login=${value('cellgate_login')}; cellgate_csrf=${value('cellgate_csrf')}`, csrf: value('cellgate_csrf') }
}
