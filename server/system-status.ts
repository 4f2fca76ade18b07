/**
 * What the server knows about the system it fronts: whether it can run
 * cells (health: the store answers, a dispatcher answered a hello recently,
 * a sandbox is connected) and the dispatcher's hosts and sandboxes, asked
 * of the dispatcher on each call (it holds the pool, the server does not).
 */
import type { HealthView, WorkersReport } from '../protocol/index.ts'
import type { Caller } from './caller.ts'
import { authorize } from './principals/authorize.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { ApiError } from './errors.ts'
import type { Store } from './store/port.ts'

/**
 * @example
 *   const status = new SystemStatusService({ store, link })
 *   const health = await status.health(caller) // { status: 'ok' | 'degraded', store, dispatcher, sandboxes }
 */
export class SystemStatusService {
  private readonly store: Pick<Store, 'health' | 'kind'>
  private readonly link: Pick<DispatcherLink, 'state' | 'requestWorkers'>

  constructor(deps: { store: Pick<Store, 'health' | 'kind'>; link: Pick<DispatcherLink, 'state' | 'requestWorkers'> }) {
    this.store = deps.store
    this.link = deps.link
  }

  /** `ok` needs the store, a dispatcher heard from recently and a connected sandbox (busy ones count: a pool under load is not degraded). */
  async health(_caller: Caller): Promise<HealthView> {
    const store = await this.store.health().catch((err: Error) => ({ ok: false, kind: this.store.kind, detail: err.message }))
    const { connected, bootId, lastSeenMs, pool } = this.link.state()
    const sandboxes = {
      total: pool?.sandboxes ?? 0,
      connected: pool?.connected ?? 0,
      ready: pool?.ready ?? 0,
      freeSlots: pool?.freeSlots ?? 0,
      queued: pool?.queued ?? 0,
    }
    const ok = store.ok && connected && sandboxes.connected > 0
    return { status: ok ? 'ok' : 'degraded', store, dispatcher: { connected, bootId, lastSeenMs }, sandboxes }
  }

  /** The dispatcher's hosts and sandboxes; 503 unavailable when it is not connected or does not answer in time. */
  /** Admins only: hosts, sandboxes and their errors are the operator's business. */
  async workers(caller: Caller): Promise<WorkersReport> {
    authorize(caller, 'admin')
    const report = await this.link.requestWorkers()
    if (!report) throw new ApiError('unavailable', 'the dispatcher is not connected or did not answer in time')
    return report
  }
}
