/**
 * A client that closes its connection before it has sent the whole body
 * (an upload cut off, a page closed mid-request) is not a failure of the
 * server: whatever reading the body then throws, app.ts's onError answers
 * it here, logged at info as the client going away, never as a 500 with a
 * stack. The answer reaches nobody; its status, 499 (as nginx logs a client
 * that closed its request), is for the request log.
 */
import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'

/** The status a request whose client went away is logged with. */
export const CLIENT_CLOSED = 499

/**
 * Whether the client closed its connection before its request was read
 * whole. Only under @hono/node-server (app.request() has no connection).
 *
 * @example
 *   if (clientWentAway(c)) return new Response(null, { status: CLIENT_CLOSED })
 */
export function clientWentAway(c: Context): boolean {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming
  return incoming !== undefined && incoming.destroyed && !incoming.complete
}
