/**
 * What a store's backend throws (a MongoDB server restarting, a disk that is
 * full) is the store being unavailable, not a bug in the request: the web
 * tier answers it with 503 `unavailable` rather than 500. guardStore puts
 * that boundary around any adapter.
 */
import type { Store } from './port.ts'

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}

/**
 * @example
 *   const store = guardStore(storeFor(config))
 *   await store.getJob(id) // rejects with StoreUnavailableError while MongoDB is down
 */
export function guardStore(store: Store): Store {
  const guard = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      return await call(...args)
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err
      throw new StoreUnavailableError(`the ${store.kind} store is unavailable: ${(err as Error).message}`, { cause: err })
    }
  }
  return {
    kind: store.kind,
    open: guard(() => store.open()),
    close: () => store.close(),
    health: () => store.health(),
    insertJob: guard((job) => store.insertJob(job)),
    getJob: guard((id) => store.getJob(id)),
    getOutputs: guard((jobId, afterSeq) => store.getOutputs(jobId, afterSeq)),
    findJobsByStatus: guard((statuses, limit) => store.findJobsByStatus(statuses, limit)),
    apply: guard((updates) => store.apply(updates)),
    deleteEndedJobs: guard((endedBefore, limit) => store.deleteEndedJobs(endedBefore, limit)),
    insertSession: guard((session, maxActive) => store.insertSession(session, maxActive)),
    getSession: guard((id) => store.getSession(id)),
    useSession: guard((id, now) => store.useSession(id, now)),
    endSession: guard((id, now, reason) => store.endSession(id, now, reason)),
    findExpiredSessions: guard((usedBefore, createdBefore, limit) => store.findExpiredSessions(usedBefore, createdBefore, limit)),
    getSessionCells: guard((id) => store.getSessionCells(id)),
    saveNotebook: guard((notebook) => store.saveNotebook(notebook)),
    getNotebook: guard((id) => store.getNotebook(id)),
  }
}
