/**
 * What a store's backend throws (a MongoDB server restarting, a disk that is
 * full) is the store being unavailable, not a bug in the request: the web
 * tier answers it with 503 `unavailable` rather than 500. guardStore puts
 * that boundary around any adapter.
 *
 * Some errors are the store refusing what it was given, not being down: a
 * MongoDB document over 16 MB, a value the driver cannot encode, a SQLite
 * constraint or size limit. Trying again cannot help, so they are told apart
 * as StoreRefusedError (the dispatcher inbox then finds the message it
 * refuses and sets it aside, dispatcher-inbox.ts).
 */
import type { Store } from './port.ts'

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}

/**
 * The store refused the data it was given (it is up): the same call would
 * fail again. A kind of StoreUnavailableError, so a request that meets one
 * is answered 503 as before; the dispatcher inbox tells it apart.
 */
export class StoreRefusedError extends StoreUnavailableError {
  override name = 'StoreRefusedError'
}

/** MongoDB server codes for a refused document: BadValue, DocumentValidationFailure, BSONObjectTooLarge. */
const MONGO_REFUSALS = new Set([2, 121, 10334])
/** SQLite result codes (extended ones start with these) for a refused value: constraints, too big, wrong type. */
const SQLITE_REFUSALS = ['SQLITE_CONSTRAINT', 'SQLITE_TOOBIG', 'SQLITE_MISMATCH']

/** Whether a backend's error is a refusal of the data rather than the store being unavailable. */
function refused(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  // The MongoDB driver checks sizes and encodes documents before it sends: "Document is larger than the maximum size".
  if (err.name === 'MongoInvalidArgumentError' || err.name === 'BSONError') return true
  const code = (err as { code?: unknown }).code
  if (err.name === 'MongoServerError' || err.name === 'MongoBulkWriteError') return typeof code === 'number' && MONGO_REFUSALS.has(code)
  return err.name === 'SqliteError' && typeof code === 'string' && SQLITE_REFUSALS.some((prefix) => code.startsWith(prefix))
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
      if (refused(err)) throw new StoreRefusedError(`the ${store.kind} store refused it: ${(err as Error).message}`, { cause: err })
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
    listJobsByOwner: guard((owner, limit) => store.listJobsByOwner(owner, limit)),
    getOutputs: guard((jobId, afterSeq, limit) => store.getOutputs(jobId, afterSeq, limit)),
    findJobsByStatus: guard((statuses, limit) => store.findJobsByStatus(statuses, limit)),
    apply: guard((updates) => store.apply(updates)),
    deleteEndedJobs: guard((endedBefore, limit) => store.deleteEndedJobs(endedBefore, limit)),
    insertSession: guard((session, maxActive) => store.insertSession(session, maxActive)),
    getSession: guard((id) => store.getSession(id)),
    useSession: guard((id, now) => store.useSession(id, now)),
    endSession: guard((id, now, reason) => store.endSession(id, now, reason)),
    findExpiredSessions: guard((usedBefore, createdBefore, limit) => store.findExpiredSessions(usedBefore, createdBefore, limit)),
    deleteEndedSessions: guard((endedBefore, limit) => store.deleteEndedSessions(endedBefore, limit)),
    getSessionCells: guard((id) => store.getSessionCells(id)),
    saveNotebook: guard((notebook) => store.saveNotebook(notebook)),
    getNotebook: guard((id) => store.getNotebook(id)),
    listNotebooksByOwner: guard((owner, limit) => store.listNotebooksByOwner(owner, limit)),
    listNotebooks: guard((limit, afterId) => store.listNotebooks(limit, afterId)),
    insertAccount: guard((account) => store.insertAccount(account)),
    getAccount: guard((id) => store.getAccount(id)),
    getAccountByName: guard((name) => store.getAccountByName(name)),
    getAccountByOidc: guard((issuer, subject) => store.getAccountByOidc(issuer, subject)),
    disableAccount: guard((id, now) => store.disableAccount(id, now)),
    setAccountPassword: guard((id, hash) => store.setAccountPassword(id, hash)),
    countAccounts: guard((role) => store.countAccounts(role)),
    listAccounts: guard((limit, afterId) => store.listAccounts(limit, afterId)),
    insertKey: guard((key) => store.insertKey(key)),
    getKey: guard((id) => store.getKey(id)),
    getKeyByHash: guard((hash) => store.getKeyByHash(hash)),
    revokeKeyTree: guard((id, now) => store.revokeKeyTree(id, now)),
    listKeyTree: guard((id) => store.listKeyTree(id)),
    listAccountKeys: guard((accountId) => store.listAccountKeys(accountId)),
    touchKey: guard((id, now) => store.touchKey(id, now)),
    appendAudit: guard((record) => store.appendAudit(record)),
    listAudit: guard((query) => store.listAudit(query)),
  }
}
