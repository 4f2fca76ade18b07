/**
 * Logging in and out, and who the caller is, mounted at /api/v1:
 *
 *   POST /login    {name, password}; 200 {account, expiresAt}, setting the
 *                  login cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)
 *                  and the CSRF cookie the page echoes in X-Cellgate-CSRF on
 *                  every unsafe request; 401 when either is wrong
 *   POST /logout   revokes the login and clears both cookies
 *   GET  /me       who the request acts for: anonymous and what it may do,
 *                  or the account and key
 */
import { randomBytes } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { loginRequestSchema } from '../../protocol/index.ts'
import type { AppEnv } from '../caller.ts'
import type { AccountService } from '../principals/account-service.ts'
import { CSRF_COOKIE, LOGIN_COOKIE } from '../principals/credentials.ts'
import type { KeyService } from '../principals/key-service.ts'
import type { LoginService } from '../principals/login-service.ts'
import { toAccountView } from '../principals/views.ts'
import { readJsonBody } from '../request-body.ts'

export interface LoginRouteDeps {
  logins: LoginService
  keys: KeyService
  accounts: AccountService
}

/**
 * @example
 *   app.route('/api/v1', loginRoutes({ logins, keys, accounts }))
 */
export function loginRoutes({ logins, keys, accounts }: LoginRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.post('/login', async (c) => {
    const login = await logins.login(c.var.caller, await readJsonBody(c, loginRequestSchema))
    const cookie = { path: '/', secure: overHttps(c), sameSite: 'Lax' as const, expires: new Date(login.expiresAt) }
    setCookie(c, LOGIN_COOKIE, login.secret, { ...cookie, httpOnly: true })
    setCookie(c, CSRF_COOKIE, randomBytes(18).toString('base64url'), cookie)
    return c.json({ account: toAccountView(login.account), expiresAt: new Date(login.expiresAt).toISOString() })
  })

  app.post('/logout', async (c) => {
    const { principal } = c.var.caller
    if (principal.kind === 'key' && principal.key.kind === 'login') await keys.revoke(c.var.caller, principal.key.id)
    deleteCookie(c, LOGIN_COOKIE, { path: '/' })
    deleteCookie(c, CSRF_COOKIE, { path: '/' })
    return c.json({ loggedOut: true })
  })

  app.get('/me', (c) => c.json(accounts.me(c.var.caller)))

  return app
}

/** Behind a TLS-terminating proxy the request arrives over HTTP; the proxy says what the browser used. */
function overHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https'
}
