/**
 * `GET /api/v1/health`: can this server run cells? `ok` (200) needs the
 * store to answer, a dispatcher that answered a hello recently, and at least
 * one sandbox connected (busy ones count: a pool under load is not
 * degraded); anything less is `degraded` (503), with the parts saying which.
 */
import { Hono } from 'hono'
import type { HealthView } from '../../protocol/index.ts'
import type { DispatcherLink } from '../dispatcher-link.ts'
import type { Store } from '../store/port.ts'

/**
 * @example
 *   app.route('/api/v1/health', healthRoutes(store, link))
 */
export function healthRoutes(store: Store, link: DispatcherLink): Hono {
  const app = new Hono()
  app.get('/', async (c) => {
    const report = await healthReport(store, link)
    return c.json(report, report.status === 'ok' ? 200 : 503)
  })
  return app
}

async function healthReport(store: Store, link: DispatcherLink): Promise<HealthView> {
  const storeHealth = await store.health().catch((err: Error) => ({ ok: false, kind: store.kind, detail: err.message }))
  const { connected, bootId, lastSeenMs, pool } = link.state()
  const sandboxes = {
    total: pool?.sandboxes ?? 0,
    connected: pool?.connected ?? 0,
    ready: pool?.ready ?? 0,
    freeSlots: pool?.freeSlots ?? 0,
    queued: pool?.queued ?? 0,
  }
  const ok = storeHealth.ok && connected && sandboxes.connected > 0
  return {
    status: ok ? 'ok' : 'degraded',
    store: storeHealth,
    dispatcher: { connected, bootId, lastSeenMs },
    sandboxes,
  }
}
