/**
 * Who is calling: worked out once per request, at the edge, by
 * `identifyCaller`, kept in Hono's typed context variables (`c.var.caller`)
 * and passed as the first argument of every service call a route makes.
 * Services never read HTTP headers or sockets. Today a caller is its
 * network address (the per-client session limit); the principal that auth
 * will resolve joins it here, and reaches every service call with it.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'

export interface Caller {
  /**
   * The peer's IP address, `unknown` without a socket (app.request() in
   * tests). Behind a proxy every client is the proxy; per-key limits will
   * replace what this is used for.
   */
  client: string
}

/** The context variables of the API's routes: `new Hono<AppEnv>()`, then `c.var.caller`. */
export interface AppEnv {
  Variables: { caller: Caller }
}

/**
 * @example
 *   app.use('/api/v1/*', identifyCaller())
 *   app.post('/', (c) => sessions.create(c.var.caller, input))
 */
export function identifyCaller(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('caller', { client: clientAddress(c) })
    await next()
  }
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
