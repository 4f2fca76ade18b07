/**
 * The Hono app of the web tier: creates it, logs each request, mounts each
 * resource's routes, GET /metrics and the web client, and maps every error
 * to `{error: {code, message}}` in one place. Works out who is calling once
 * per API request (caller.ts) and hands each route the service it uses.
 * Holds no state of its own, so tests run it in-process with `app.request()`.
 */
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import { HTTPException } from 'hono/http-exception'
import { methodNotAllowed } from 'hono/method-not-allowed'
import type { ServerConfig } from '../config/schema.ts'
import { API_BASE, MAX_BODY_BYTES } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import { limitBody } from './body-limit.ts'
import { CLIENT_CLOSED, clientWentAway } from './client-gone.ts'
import { ApiError, retryAfterSeconds, type ErrorCode } from './errors.ts'
import { authorize } from './principals/authorize.ts'
import { logRequests } from './request-log.ts'
import { StoreUnavailableError } from './store/guard.ts'
import { identifyCaller, type AppEnv } from './caller.ts'
import { accountRoutes } from './routes/accounts.ts'
import { auditRoutes } from './routes/audit.ts'
import { cellEventRoutes } from './routes/cell-events.ts'
import { cellRoutes } from './routes/cells.ts'
import { healthRoutes } from './routes/health.ts'
import { keyRoutes } from './routes/keys.ts'
import { loginRoutes } from './routes/login.ts'
import { notebookRoutes } from './routes/notebooks.ts'
import { oidcLoginRoutes } from './routes/oidc-login.ts'
import { sessionRoutes } from './routes/sessions.ts'
import type { ServerMetrics } from './metrics.ts'
import type { Services } from './services.ts'
import { DEFAULT_WEB_ROOT, isPageRequest, webClient } from './routes/web.ts'
import { workerRoutes } from './routes/workers.ts'

export interface AppOptions {
  services: Services
  /** Event stream timing (streamHeartbeatMs, streamPollMs), stacks in responses (debug), origins that may call the API (corsOrigins). */
  server: ServerConfig
  /** The process's logger; the app logs requests and unexpected errors through children of it. */
  logger: Logger
  /** Served as GET /metrics; event streams count themselves in it. */
  metrics: ServerMetrics
  /** The built web client (default dist/web). */
  webRoot?: string
}

/**
 * @example
 *   const app = createApp({ services, server: config.server, logger, metrics })
 *   const res = await app.request('/api/v1/cells', { method: 'POST', … })
 */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const { services, server, metrics } = options
  const logger = options.logger.child({ component: 'http' })
  const app = new Hono<AppEnv>()

  app.use(logRequests(logger))
  // Before the other rules, so preflight requests are answered before any of them looks at them.
  app.use(`${API_BASE}/*`, cors({
    origin: corsOrigin(server.corsOrigins),
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'Last-Event-ID', 'Authorization', 'X-Cellgate-CSRF'],
    exposeHeaders: ['Location', 'Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  }))
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) => {
      const allow = methods.join(', ')
      return errorJson(c, new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; use ${allow}`), { Allow: allow })
    },
  }))
  app.use(`${API_BASE}/*`, limitBody(MAX_BODY_BYTES, () => {
    throw new ApiError('payload_too_large', `the request body is larger than ${MAX_BODY_BYTES} bytes`)
  }))

  app.use(`${API_BASE}/*`, identifyCaller(services.auth))
  // Outside the API (no CORS), for Prometheus with an admin key (its scrape config's `authorization`).
  app.use('/metrics', identifyCaller(services.auth))
  app.get('/metrics', async (c) => {
    authorize(c.var.caller, 'admin')
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType })
  })

  app.route(`${API_BASE}/cells`, cellRoutes(services.jobs))
  app.route(`${API_BASE}/cells`, cellEventRoutes(services.jobs, {
    heartbeatMs: server.streamHeartbeatMs, maxUnsentBytes: server.streamMaxUnsentBytes, stallMs: server.streamStallMs, metrics, logger,
  }))
  app.route(`${API_BASE}/sessions`, sessionRoutes(services.sessions))
  app.route(`${API_BASE}/notebooks`, notebookRoutes(services.notebooks))
  app.route(`${API_BASE}/health`, healthRoutes(services.status))
  app.route(`${API_BASE}/keys`, keyRoutes(services.keys))
  app.route(`${API_BASE}/accounts`, accountRoutes(services.accounts))
  app.route(`${API_BASE}/audit`, auditRoutes(services.audit))
  app.route(API_BASE, loginRoutes(services))
  if (services.oidc) app.route(`${API_BASE}/login/oidc`, oidcLoginRoutes(services.oidc))
  app.route(`${API_BASE}/workers`, workerRoutes(services.status))

  const web = webClient(options.webRoot ?? DEFAULT_WEB_ROOT)
  if (web.assets) app.use('*', web.assets)

  app.notFound((c) => isPageRequest(c)
    ? web.page(c)
    : errorJson(c, new ApiError('not_found', `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`)))

  app.onError((err, c) => {
    // Before the rest: a body cut off by its client reads as invalid JSON, or fails to read at all.
    if (clientWentAway(c)) {
      logger.info({ method: c.req.method, path: c.req.path.slice(0, 200), reason: err.message }, 'the client went away before its request was read')
      return new Response(null, { status: CLIENT_CLOSED })
    }
    if (err instanceof ApiError) return errorJson(c, err)
    if (err instanceof StoreUnavailableError) return errorJson(c, new ApiError('unavailable', err.message))
    if (err instanceof HTTPException && err.status < 500) {
      return errorJson(c, new ApiError(codeOfStatus(err.status), err.message || 'bad request'))
    }
    logger.error({ method: c.req.method, path: c.req.path.slice(0, 200), err }, 'request failed')
    const message = server.debug ? (err as Error).stack ?? String(err) : 'internal error'
    return c.json({ error: { code: 'internal', message } }, 500)
  })

  return app
}

function corsOrigin(setting: string): string | string[] {
  const origins = setting.split(',').map((o) => o.trim()).filter(Boolean)
  return origins.includes('*') ? '*' : origins
}

function errorJson(c: Context, err: ApiError, headers: Record<string, string> = {}): Response {
  if (err.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="cellgate", charset="UTF-8"'
  if (err.retryAfterMs !== undefined) headers['Retry-After'] = String(retryAfterSeconds(err.retryAfterMs))
  return c.json({ error: { code: err.code, message: err.message } }, err.status, headers)
}

function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 404: return 'not_found'
    case 405: return 'method_not_allowed'
    case 409: return 'conflict'
    case 429: return 'too_many_sessions'
    case 413: return 'payload_too_large'
    case 415: return 'unsupported_media_type'
    default: return 'bad_request'
  }
}
