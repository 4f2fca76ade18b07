/**
 * The request body size limit, checked without touching the body when the
 * request declares its length. Hono's bodyLimit reads `c.req.raw.body` first,
 * which makes @hono/node-server build a whole web Request with a body stream
 * for every request (a fifth of the server's CPU per trivial cell, measured
 * with `npm run bench`); reading the declared length from the headers leaves
 * the body to node-server's direct read. A body of unknown length (chunked)
 * still goes through Hono's bodyLimit, which counts the bytes as they
 * arrive; GET and HEAD bodies are never read.
 */
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'

/**
 * @example
 *   app.use('/api/*', limitBody(1024 * 1024, () => { throw new ApiError('payload_too_large', '…') }))
 */
export function limitBody(maxSize: number, onError: () => never): MiddlewareHandler {
  const counted = bodyLimit({ maxSize, onError })
  return async (c, next) => {
    // No route reads the body of a GET or HEAD.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const length = c.req.header('content-length')
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next)
    if (Number.parseInt(length, 10) > maxSize) onError()
    return next()
  }
}
