/**
 * `GET /api/v1/workers`: the dispatcher's hosts and sandbox processes, with
 * their state, load (jobs running out of slots), jobs run and last error.
 * Asked of the dispatcher on each request (it holds the pool, the server
 * does not); 503 `unavailable` when it is not connected or does not answer
 * within config.server.dispatcherRequestTimeoutMs (2 s by default).
 */
import { Hono } from 'hono'
import type { AppEnv } from '../caller.ts'
import type { SystemStatusService } from '../system-status.ts'

/**
 * @example
 *   app.route('/api/v1/workers', workerRoutes(status))
 *   // GET → { hosts: [{ host, state, sandboxes, running, slots, lastError }], sandboxes: [{ id, host, state, pid?, slots, running, jobsRun, lastError }] }
 */
export function workerRoutes(status: SystemStatusService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', async (c) => c.json(await status.workers(c.var.caller)))
  return app
}
