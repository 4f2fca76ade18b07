/**
 * `GET /api/v1/health`: can this server run cells? `ok` (200) needs the
 * store to answer, a dispatcher that answered a hello recently, and at least
 * one sandbox connected (busy ones count: a pool under load is not
 * degraded); anything less is `degraded` (503), with the parts saying which.
 */
import { Hono } from 'hono'
import type { AppEnv } from '../caller.ts'
import type { SystemStatusService } from '../system-status.ts'

/**
 * @example
 *   app.route('/api/v1/health', healthRoutes(status))
 */
export function healthRoutes(status: SystemStatusService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', async (c) => {
    const report = await status.health(c.var.caller)
    return c.json(report, report.status === 'ok' ? 200 : 503)
  })
  return app
}
