/**
 * Cells as an HTTP resource, mounted at /api/v1/cells:
 *
 *   POST /               submit; 202 {id, status, links} (+ Location), or with
 *                        ?wait=true 200 with the finished job (202 with the job
 *                        as it is if it does not end within wallMs + waitGraceMs)
 *   GET  /?mine=1        the caller's account's 50 newest cells (summaries); 401 anonymous
 *   GET  /:id            the job with its outputs (404 once retention deleted it)
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
import type { AppEnv } from '../caller.ts'
import { checkCellRequest } from '../cell-request.ts'
import { ApiError } from '../errors.ts'
import type { JobService } from '../jobs.ts'
import { readJsonBody } from '../request-body.ts'
import { inWords } from '../durations.ts'

/** Parses a cell id from the path; anything that cannot be an id is simply not found. */
export function cellId(raw: string): string {
  if (!jobIdSchema.safeParse(raw).success) throw notFound(raw)
  return raw
}

/** With `retentionMs`, the message says a cell that existed may have been deleted (see retention.ts). */
export function notFound(id: string, retentionMs?: number): ApiError {
  const gone = retentionMs === undefined ? '' : `: there never was one, or it ended more than ${inWords(retentionMs)} ago and was deleted`
  return new ApiError('not_found', `no cell with id ${JSON.stringify(id.slice(0, 80))}${gone}`)
}

/**
 * @example
 *   app.route('/api/v1/cells', cellRoutes(jobs))
 */
export function cellRoutes(jobs: JobService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => {
    if (c.req.query('mine') !== '1') throw new ApiError('bad_request', 'only your own cells are listed: GET /api/v1/cells?mine=1')
    return c.json({ cells: await jobs.listMine(c.var.caller) })
  })

  app.post('/', async (c) => {
    const input = checkCellRequest(await readJsonBody(c, cellRequestSchema))
    const wait = c.req.query('wait')
    if (wait === 'true' || wait === '1') {
      const view = await jobs.submitAndWait(c.var.caller, input)
      c.header('Location', view.links.self)
      return c.json(view, isTerminal(view.status) ? 200 : 202)
    }
    const { id, status, links } = await jobs.submit(c.var.caller, input)
    c.header('Location', links.self)
    return c.json({ id, status, links }, 202)
  })

  app.get('/:id', async (c) => {
    const id = cellId(c.req.param('id'))
    const view = await jobs.view(c.var.caller, id)
    if (!view) throw notFound(id, jobs.retentionMs)
    return c.json(view)
  })

  app.post('/:id/cancel', async (c) => {
    const id = cellId(c.req.param('id'))
    const outcome = await jobs.cancel(c.var.caller, id)
    if (!outcome) throw notFound(id, jobs.retentionMs)
    return c.json(outcome.view, outcome.alreadyEnded ? 200 : 202)
  })

  return app
}
