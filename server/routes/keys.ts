/**
 * Keys as an HTTP resource, mounted at /api/v1/keys, always for the key the
 * request is made with (401 without one):
 *
 *   GET    /      that key and every key below it (secrets never shown)
 *   POST   /      a sub-key {name, kind?, scopes?, resource?, origins?, notBefore?,
 *                 expiresAt?, caps?}; 201 {key, secret} — the secret this once.
 *                 Anything wider than the parent: 403 naming the dimension.
 *   DELETE /:id   revoke that key and its subtree (itself, or one below it);
 *                 404 for any other key
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { keyRequestSchema } from '../../protocol/index.ts'
import type { AppEnv } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { KeyService } from '../principals/key-service.ts'
import { readJsonBody } from '../request-body.ts'

const keyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/)

/**
 * @example
 *   app.route('/api/v1/keys', keyRoutes(keys))
 */
export function keyRoutes(keys: KeyService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => c.json({ keys: await keys.list(c.var.caller) }))

  app.post('/', async (c) => {
    const made = await keys.create(c.var.caller, await readJsonBody(c, keyRequestSchema))
    return c.json(made, 201)
  })

  app.delete('/:id', async (c) => {
    const id = c.req.param('id')
    const view = keyIdSchema.safeParse(id).success ? await keys.revoke(c.var.caller, id) : null
    if (view === null) throw new ApiError('not_found', `no key ${JSON.stringify(id.slice(0, 100))} at or below this key`)
    return c.json(view)
  })

  return app
}
