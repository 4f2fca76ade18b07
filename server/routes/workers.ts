/**
 * `GET /api/v1/workers`: the dispatcher's hosts and sandbox processes, with
 * their state, load (jobs running out of slots), jobs run and last error.
 * Asked of the dispatcher on each request (it holds the pool, the server
 * does not); 503 `unavailable` when it is not connected or does not answer
 * within config.server.dispatcherRequestTimeoutMs (2 s by default).
 */
import { Hono } from 'hono'
import type { DispatcherLink } from '../dispatcher-link.ts'
import { ApiError } from '../errors.ts'

/**
 * @example
 *   app.route('/api/v1/workers', workerRoutes(link))
 *   // GET → { hosts: [{ host, state, sandboxes, running, slots, lastError }], sandboxes: [{ id, host, state, pid?, slots, running, jobsRun, lastError }] }
 */
export function workerRoutes(link: DispatcherLink): Hono {
  const app = new Hono()
  app.get('/', async (c) => {
    const report = await link.requestWorkers()
    if (!report) throw new ApiError('unavailable', 'the dispatcher is not connected or did not answer in time')
    return c.json(report)
  })
  return app
}
