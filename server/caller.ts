/**
 * Who is calling: worked out once per request, at the edge, by
 * `identifyCaller`, kept in Hono's typed context variables (`c.var.caller`)
 * and passed as the first argument of every service call a route makes.
 * Services never read HTTP headers or sockets: they decide on the caller's
 * principal (server/principals/authorize.ts).
 *
 * A request with a key acts for the key's account; a request without one is
 * anonymous, with what CELLGATE_ANONYMOUS allows. A key that is unknown,
 * revoked, expired or whose account is disabled is refused with 401 here
 * rather than taken as anonymous, so a client learns its key stopped
 * working (a dead login cookie is also cleared with that 401, so the
 * browser's next request is anonymous and can log in again). A request
 * authenticated by the login cookie must carry the CSRF
 * token for any method that changes something.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { ApiError } from './errors.ts'
import { clearLoginCookies, CSRF_COOKIE, CSRF_HEADER, readCredential } from './principals/credentials.ts'
import type { KeyPrincipal, Principal } from './principals/principal.ts'

export interface Caller {
  /**
   * The peer's IP address, `unknown` without a socket (app.request() in
   * tests). Behind a proxy every client is the proxy. Anonymous callers'
   * per-client limits count by it.
   */
  client: string
  /** The request's Origin header (a browser page's origin), null without one. */
  origin: string | null
  principal: Principal
}

/** The context variables of the API's routes: `new Hono<AppEnv>()`, then `c.var.caller`. */
export interface AppEnv {
  Variables: { caller: Caller }
}

export interface Authenticator {
  /** What anonymous callers may do. */
  anonymous: Principal
  /** The live key with this secret, as a principal; null when unknown, revoked, out of its window or its account disabled. */
  resolve(secret: string): Promise<KeyPrincipal | null>
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * @example
 *   app.use('/api/v1/*', identifyCaller(authenticator))
 *   app.post('/', (c) => sessions.create(c.var.caller, input))
 */
export function identifyCaller(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('caller', { client: clientAddress(c), origin: c.req.header('Origin') ?? null, principal: await principalOf(c, auth) })
    await next()
  }
}

async function principalOf(c: Context, auth: Authenticator): Promise<Principal> {
  const credential = readCredential(c)
  if (credential.kind === 'none') return auth.anonymous
  if (credential.kind === 'malformed') throw new ApiError('unauthenticated', credential.message)
  const principal = await auth.resolve(credential.secret)
  if (principal === null) {
    // A page cannot drop an HttpOnly cookie itself: without this, a revoked login would fail every request, logging in again too.
    if (credential.via === 'cookie') clearLoginCookies(c)
    throw new ApiError('unauthenticated', 'the key is not valid: it is unknown, revoked, expired or not yet valid, or its account is disabled')
  }
  if (credential.via === 'cookie' && !SAFE_METHODS.has(c.req.method)) {
    const token = getCookie(c, CSRF_COOKIE)
    if (token === undefined || token === '' || c.req.header(CSRF_HEADER) !== token) {
      throw new ApiError('forbidden', `a request signed in by cookie must send the ${CSRF_HEADER} header with the value of the ${CSRF_COOKIE} cookie`)
    }
  }
  return principal
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
