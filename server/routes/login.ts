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
 *   GET  /login/methods  how people may log in here: {password: true, oidc:
 *                  {issuer} or null}, so the login page offers what there is
 *
 * Logging in with OpenID Connect is routes/oidc-login.ts.
 */
import { Hono } from 'hono'
import { loginRequestSchema, type LoginMethodsView } from '../../protocol/index.ts'
import type { AppEnv } from '../caller.ts'
import type { AccountService } from '../principals/account-service.ts'
import { clearLoginCookies, setLoginCookies } from '../principals/credentials.ts'
import type { KeyService } from '../principals/key-service.ts'
import type { LoginService } from '../principals/login-service.ts'
import type { OidcLogin } from '../principals/oidc-login.ts'
import { toAccountView } from '../principals/views.ts'
import { readJsonBody } from '../request-body.ts'

export interface LoginRouteDeps {
  logins: LoginService
  keys: KeyService
  accounts: AccountService
  /** null when OpenID Connect login is not configured. */
  oidc: OidcLogin | null
}

/**
 * @example
 *   app.route('/api/v1', loginRoutes({ logins, keys, accounts, oidc }))
 */
export function loginRoutes({ logins, keys, accounts, oidc }: LoginRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/login/methods', (c) => c.json({ password: true, oidc: oidc && { issuer: oidc.issuer } } satisfies LoginMethodsView))

  app.post('/login', async (c) => {
    const login = await logins.login(c.var.caller, await readJsonBody(c, loginRequestSchema))
    setLoginCookies(c, login)
    return c.json({ account: toAccountView(login.account), expiresAt: new Date(login.expiresAt).toISOString() })
  })

  app.post('/logout', async (c) => {
    const { principal } = c.var.caller
    if (principal.kind === 'key' && principal.key.kind === 'login') await keys.revoke(c.var.caller, principal.key.id)
    clearLoginCookies(c)
    return c.json({ loggedOut: true })
  })

  app.get('/me', (c) => c.json(accounts.me(c.var.caller)))

  return app
}
