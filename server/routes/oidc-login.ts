/**
 * Logging in with OpenID Connect, mounted at /api/v1/login/oidc (only when
 * config.auth.oidc is set). Both routes are browser navigations, not API
 * calls, so they answer with redirects:
 *
 *   GET /            ?next=/path: 302 to the provider, with the login's sealed
 *                    state in the HttpOnly cookie cellgate_oidc (this path only)
 *   GET /callback    where the provider sends the browser back: logged in,
 *                    302 to `next` with the login cookies set (as POST /login
 *                    sets them); failed, 302 to /login?error=<why>, which the
 *                    login page shows
 *
 * The flow itself is server/principals/oidc-login.ts.
 */
import { Hono, type Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { AppEnv } from '../caller.ts'
import { overHttps, setLoginCookies } from '../principals/credentials.ts'
import { FLOW_TTL_MS, OidcLoginFailure, safeNext, type OidcLogin } from '../principals/oidc-login.ts'

const FLOW_COOKIE = 'cellgate_oidc'
const FLOW_PATH = '/api/v1/login/oidc'

/**
 * @example
 *   if (services.oidc) app.route('/api/v1/login/oidc', oidcLoginRoutes(services.oidc))
 */
export function oidcLoginRoutes(oidc: OidcLogin): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => {
    let started: { location: string; sealed: string }
    try {
      started = await oidc.start(oidc.redirectUrl(new URL(c.req.url).origin), safeNext(c.req.query('next')))
    } catch (err) {
      return backToLogin(c, `${oidc.issuer} cannot be reached to log in: ${(err as Error).message}`)
    }
    // Lax, not Strict: the provider's redirect back is a cross-site navigation, which Strict would strip the cookie from.
    setCookie(c, FLOW_COOKIE, started.sealed, { path: FLOW_PATH, httpOnly: true, secure: overHttps(c), sameSite: 'Lax', maxAge: FLOW_TTL_MS / 1000 })
    return c.redirect(started.location, 302)
  })

  app.get('/callback', async (c) => {
    const sealed = getCookie(c, FLOW_COOKIE)
    deleteCookie(c, FLOW_COOKIE, { path: FLOW_PATH })
    try {
      const { login, next } = await oidc.finish(c.var.caller, new URL(c.req.url).search, sealed)
      setLoginCookies(c, login)
      return c.redirect(next, 302)
    } catch (err) {
      if (err instanceof OidcLoginFailure) return backToLogin(c, err.message)
      throw err
    }
  })

  return app
}

function backToLogin(c: Context, message: string): Response {
  return c.redirect(`/login?error=${encodeURIComponent(message.slice(0, 500))}`, 302)
}
