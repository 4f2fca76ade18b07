/**
 * Cells as an HTTP resource, mounted at /api/v1/cells:
 *
 *   POST /               submit; 202 {id, status, links} (+ Location), or with
 *                        ?wait=true 200 with the finished job (202 with the job
 *                        as it is if it does not end within wallMs + waitGraceMs)
 *   GET  /:id            the job with its outputs
 *   POST /:id/cancel     202 with the job, or 200 if it had already ended
 *
 * With `session: id` in the body the cell runs in that session's context
 * (see sessions.ts): 404 for an unknown session, 409 session_ended for one
 * that has ended, 400 if it also asks for memoryMb (the session's is used).
 *
 * The event stream of a cell is in cell-events.ts.
 */
import { Hono } from 'hono'
import { cellRequestSchema, isTerminal, jobIdSchema } from '../../protocol/index.ts'
import { checkCellRequest } from '../cell-request.ts'
import { ApiError } from '../errors.ts'
import { jobLinks } from '../records.ts'
import type { JobService } from '../jobs.ts'
import { readJsonBody } from '../request-body.ts'
import type { SessionService } from '../sessions.ts'

/** Parses a cell id from the path; anything that cannot be an id is simply not found. */
export function cellId(raw: string): string {
  if (!jobIdSchema.safeParse(raw).success) throw notFound(raw)
  return raw
}

export function notFound(id: string): ApiError {
  return new ApiError('not_found', `no cell with id ${JSON.stringify(id.slice(0, 80))}`)
}

/**
 * @example
 *   app.route('/api/v1/cells', cellRoutes(jobs))
 */
export function cellRoutes(jobs: JobService, sessions: SessionService): Hono {
  const app = new Hono()

  app.post('/', async (c) => {
    const { session: sessionId, ...input } = checkCellRequest(await readJsonBody(c, cellRequestSchema))
    let job
    if (sessionId === undefined) {
      job = await jobs.submit(input)
    } else {
      if (input.memoryMb !== undefined) throw new ApiError('validation_failed', 'memoryMb: a session\'s cells all run with the memoryMb given when the session was created')
      const { session, memoryMb } = await sessions.nextCell(sessionId)
      job = await jobs.submit({ ...input, memoryMb }, session)
    }
    const links = jobLinks(job.id)
    c.header('Location', links.self)
    const wait = c.req.query('wait')
    if (wait !== 'true' && wait !== '1') return c.json({ id: job.id, status: job.status, links }, 202)
    const now = await jobs.waitForEnd(job.id, job.limits.wallMs + jobs.config.server.waitGraceMs, job)
    const view = await jobs.viewOf(now ?? job)
    return c.json(view, isTerminal(view.status) ? 200 : 202)
  })

  app.get('/:id', async (c) => {
    const id = cellId(c.req.param('id'))
    const view = await jobs.view(id)
    if (!view) throw notFound(id)
    return c.json(view)
  })

  app.post('/:id/cancel', async (c) => {
    const id = cellId(c.req.param('id'))
    const outcome = await jobs.cancel(id)
    if (!outcome) throw notFound(id)
    return c.json(await jobs.viewOf(outcome.job), outcome.alreadyEnded ? 200 : 202)
  })

  return app
}
