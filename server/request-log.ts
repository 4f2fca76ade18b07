/**
 * One structured log record per HTTP request: method, path, status and how
 * long the handler took to answer (for an event stream, until its headers
 * went out, not until it closed). The path only, never the query: query
 * values may carry what should not be in logs. Health checks and metric
 * scrapes come every few seconds from machines and would drown the rest, so
 * they are logged at debug.
 */
import type { MiddlewareHandler } from 'hono'
import { API_BASE } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'

const QUIET_PATHS = new Set(['/metrics', `${API_BASE}/health`])

/** Paths are client input: a long one is cut to this many characters. */
const MAX_PATH = 200

/**
 * @example
 *   app.use(logRequests(logger.child({ component: 'http' })))
 *   // {"level":30,…,"component":"http","method":"POST","path":"/api/v1/cells","status":202,"ms":1.2,"msg":"request"}
 */
export function logRequests(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    await next()
    const path = c.req.path
    const level = QUIET_PATHS.has(path) ? 'debug' : 'info'
    // Checked first: at thousands of cells a second, a record nobody keeps should cost nothing to build.
    if (!logger.isLevelEnabled(level)) return
    const ms = Math.round((performance.now() - started) * 100) / 100
    logger[level]({ method: c.req.method, path: path.slice(0, MAX_PATH), status: c.res.status, ms }, 'request')
  }
}
