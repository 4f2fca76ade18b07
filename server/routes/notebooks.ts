/**
 * Saved notebooks as an HTTP resource, mounted at /api/v1/notebooks:
 *
 *   GET  /?mine=1  the caller's account's notebooks, 100 most recently saved (summaries); 401 anonymous
 *   POST /      create; 201 {id, title, cells, createdAt, updatedAt, links} (+ Location);
 *               made without a key, also `key`: the secret that saves this notebook and nothing else
 *   GET  /:id   the notebook as last saved
 *   PUT  /:id   save it again (replaces title and cells); 200 with it, 404 if unknown
 *
 * A notebook is a document the browser owns: its code and, per cell, what
 * its last run showed (outputs, result, error), so its link shows them
 * without running anything. Its id is the permalink (see ids.ts).
 */
import { Hono } from 'hono'
import { notebookIdSchema, notebookRequestSchema } from '../../protocol/index.ts'
import type { AppEnv } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { NotebookService } from '../notebooks.ts'
import { readJsonBody } from '../request-body.ts'

function notFound(id: string): ApiError {
  return new ApiError('not_found', `no notebook ${JSON.stringify(id.slice(0, 100))}`)
}

/** Parses a notebook id from the path; anything that cannot be an id is simply not found. */
function notebookId(raw: string): string {
  if (!notebookIdSchema.safeParse(raw).success) throw notFound(raw)
  return raw
}

/**
 * @example
 *   app.route('/api/v1/notebooks', notebookRoutes(notebooks))
 */
export function notebookRoutes(notebooks: NotebookService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => {
    if (c.req.query('mine') !== '1') throw new ApiError('bad_request', 'only your own notebooks are listed: GET /api/v1/notebooks?mine=1')
    return c.json({ notebooks: await notebooks.listMine(c.var.caller) })
  })

  app.post('/', async (c) => {
    const view = await notebooks.create(c.var.caller, await readJsonBody(c, notebookRequestSchema))
    c.header('Location', view.links.self)
    return c.json(view, 201)
  })

  app.get('/:id', async (c) => {
    const id = notebookId(c.req.param('id'))
    const view = await notebooks.get(c.var.caller, id)
    if (!view) throw notFound(id)
    return c.json(view)
  })

  app.put('/:id', async (c) => {
    const id = notebookId(c.req.param('id'))
    const view = await notebooks.save(c.var.caller, id, await readJsonBody(c, notebookRequestSchema))
    if (!view) throw notFound(id)
    return c.json(view)
  })

  return app
}
