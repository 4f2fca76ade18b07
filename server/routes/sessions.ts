/**
 * Sessions as an HTTP resource, mounted at /api/v1/sessions:
 *
 *   POST   /      create; 201 with the session (+ Location). Body optional:
 *                 {memoryMb?}. 429 too_many_sessions past the client's limit.
 *   GET    /:id   the session: status, endReason, times, its cells' ids
 *   DELETE /:id   end it; 200 with the ended session (also when it had already ended)
 *
 * Cells run in a session with `POST /api/v1/cells {code, session: id}`
 * (routes/cells.ts): 404 for an unknown session, 409 session_ended once ended.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono, type Context } from 'hono'
import { sessionIdSchema, sessionRequestSchema } from '../../protocol/index.ts'
import { readJsonBody } from '../request-body.ts'
import { ENDED_BY_CLIENT, notFound, type SessionService } from '../sessions.ts'

/** Parses a session id from the path; anything that cannot be an id is simply not found. */
function sessionId(raw: string): string {
  if (!sessionIdSchema.safeParse(raw).success) throw notFound(raw)
  return raw
}

/**
 * Who is asking, for the per-client session limit: the peer's IP (there are
 * no keys yet). Behind a proxy every client is the proxy; per-key limits
 * will replace this.
 */
export function clientOf(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown' // app.request() in tests has no socket
  }
}

/**
 * @example
 *   app.route('/api/v1/sessions', sessionRoutes(new SessionService(jobs)))
 */
export function sessionRoutes(sessions: SessionService): Hono {
  const app = new Hono()

  app.post('/', async (c) => {
    // A body is optional: `curl -X POST …/sessions` creates one with the defaults.
    const hasBody = c.req.header('content-type') !== undefined || (c.req.header('content-length') ?? '0') !== '0'
    const input = hasBody ? await readJsonBody(c, sessionRequestSchema) : {}
    const session = await sessions.create(clientOf(c), input)
    const view = await sessions.view(session)
    c.header('Location', view.links.self)
    return c.json(view, 201)
  })

  app.get('/:id', async (c) => {
    const id = sessionId(c.req.param('id'))
    const session = await sessions.get(id)
    if (!session) throw notFound(id)
    return c.json(await sessions.view(session))
  })

  app.delete('/:id', async (c) => {
    const id = sessionId(c.req.param('id'))
    const session = await sessions.get(id)
    if (!session) throw notFound(id)
    if (session.status === 'active') await sessions.end(id, ENDED_BY_CLIENT)
    return c.json(await sessions.view((await sessions.get(id)) ?? session))
  })

  return app
}
