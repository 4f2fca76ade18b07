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
import { Hono } from 'hono'
import { sessionIdSchema, sessionRequestSchema } from '../../protocol/index.ts'
import type { AppEnv } from '../caller.ts'
import { readJsonBody } from '../request-body.ts'
import { notFound, type SessionService } from '../sessions.ts'

/** Parses a session id from the path; anything that cannot be an id is simply not found. */
function sessionId(raw: string): string {
  if (!sessionIdSchema.safeParse(raw).success) throw notFound(raw)
  return raw
}

/**
 * @example
 *   app.route('/api/v1/sessions', sessionRoutes(sessions))
 */
export function sessionRoutes(sessions: SessionService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.post('/', async (c) => {
    // A body is optional: `curl -X POST …/sessions` creates one with the defaults.
    const hasBody = c.req.header('content-type') !== undefined || (c.req.header('content-length') ?? '0') !== '0'
    const input = hasBody ? await readJsonBody(c, sessionRequestSchema) : {}
    const view = await sessions.create(c.var.caller, input)
    c.header('Location', view.links.self)
    return c.json(view, 201)
  })

  app.get('/:id', async (c) => {
    const id = sessionId(c.req.param('id'))
    const view = await sessions.get(c.var.caller, id)
    if (!view) throw notFound(id)
    return c.json(view)
  })

  app.delete('/:id', async (c) => {
    const id = sessionId(c.req.param('id'))
    const view = await sessions.end(c.var.caller, id)
    if (!view) throw notFound(id)
    return c.json(view)
  })

  return app
}
