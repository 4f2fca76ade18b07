/**
 * Saved notebooks as an HTTP resource, mounted at /api/v1/notebooks:
 *
 *   POST /      create; 201 {id, title, cells, createdAt, updatedAt, links} (+ Location)
 *   GET  /:id   the notebook as last saved
 *   PUT  /:id   save it again (replaces title and cells); 200 with it, 404 if unknown
 *
 * A notebook is a document the browser owns: its code and, per cell, what
 * its last run showed (outputs, result, error), so its link shows them
 * without running anything. Its id is the permalink: 12 url-safe characters
 * from 72 random bits, not guessable, not listed anywhere.
 */
import { Hono } from 'hono'
import { notebookIdSchema, notebookRequestSchema } from '../../protocol/index.ts'
import { ApiError } from '../errors.ts'
import { newNotebookId } from '../ids.ts'
import { toNotebookView } from '../records.ts'
import { readJsonBody } from '../request-body.ts'
import type { NotebookRecord, Store } from '../store/port.ts'

function notFound(id: string): ApiError {
  return new ApiError('not_found', `no notebook ${JSON.stringify(id.slice(0, 100))}`)
}

/**
 * @example
 *   app.route('/api/v1/notebooks', notebookRoutes(jobs.store))
 */
export function notebookRoutes(store: Store): Hono {
  const app = new Hono()

  /** Reads a stored notebook by the id in the path; anything that cannot be an id is simply not found. */
  async function stored(raw: string): Promise<NotebookRecord> {
    const notebook = notebookIdSchema.safeParse(raw).success ? await store.getNotebook(raw) : null
    if (!notebook) throw notFound(raw)
    return notebook
  }

  app.post('/', async (c) => {
    const input = await readJsonBody(c, notebookRequestSchema)
    const now = Date.now()
    const notebook: NotebookRecord = { id: newNotebookId(), ...input, createdAt: now, updatedAt: now }
    await store.saveNotebook(notebook)
    const body = toNotebookView(notebook)
    c.header('Location', body.links.self)
    return c.json(body, 201)
  })

  app.get('/:id', async (c) => c.json(toNotebookView(await stored(c.req.param('id')))))

  app.put('/:id', async (c) => {
    const before = await stored(c.req.param('id'))
    const input = await readJsonBody(c, notebookRequestSchema)
    const notebook: NotebookRecord = { ...before, ...input, updatedAt: Math.max(Date.now(), before.updatedAt) }
    await store.saveNotebook(notebook)
    return c.json(toNotebookView(notebook))
  })

  return app
}
