/**
 * The audit log for admins, mounted at /api/v1/audit:
 *
 *   GET /?limit=&before=   newest first, `limit` (1–500, default 100) a page;
 *                          `next` is the `before` of the next page, null after the last
 */
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { AuditService } from '../principals/audit-service.ts'

const limitSchema = z.coerce.number().int().min(1).max(500).default(100)

/**
 * @example
 *   app.route('/api/v1/audit', auditRoutes(audit))
 */
export function auditRoutes(audit: AuditService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => {
    const limit = limitSchema.safeParse(c.req.query('limit'))
    if (!limit.success) throw new ApiError('validation_failed', 'limit: must be a whole number from 1 to 500')
    return c.json(await audit.page(c.var.caller, limit.data, c.req.query('before')))
  })

  return app
}
