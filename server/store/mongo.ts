/**
 * The production store: MongoDB through the official driver, so any number
 * of web tier instances can share jobs and outputs (DESIGN: scale-out). Run
 * it on a replica set: `majority` writes then survive a failover, and the
 * driver retries a write or read once when the primary changes or a
 * connection drops, so a store hiccup costs a slow request, never a crash.
 *
 * Each `apply` batch costs three commands however many outputs it carries:
 * one find (the jobs' statuses and times), one insert (all outputs, unordered; a
 * duplicate (jobId, seq) is an output already stored) and one bulk update
 * (one guarded update per job; see mongo-apply-plan.ts). Guarded means the
 * filter names the status the job must still have, so a late or repeated
 * message never moves a finished job back.
 *
 * FerretDB v1 (SQLite handler), which the tests run against, differs where
 * this adapter cares:
 * - Write concern is accepted and ignored: there is one node, and a write is
 *   in SQLite when FerretDB answers. Nothing is replicated.
 * - It is a standalone server to the driver (no replica set), so the driver
 *   never retries writes there; reads are still retried once. A failed apply
 *   throws, the server does not ack, the dispatcher sends the batch again,
 *   and inserting it again is harmless.
 * - An update is not atomic: FerretDB reads the matching document, applies
 *   the filter and the update in Go, then writes the whole document back.
 *   Two writers racing on one job can both pass the status guard, and the
 *   last one wins. This adapter runs its own `apply` calls one at a time, so
 *   one web instance is safe; several instances need MongoDB.
 * - Only a filter that is exactly `{_id}` reaches SQLite; every other query
 *   (outputs of a job, jobs by status) scans the collection in Go. It still
 *   creates the indexes (and enforces unique ones), but does not use them to
 *   find documents: fine for tests, not for production.
 * - Keys containing '.' or starting with '$' are refused in inserted
 *   documents: result values are stored as JSON text (see mongo-docs.ts).
 * - SIGTERM stops the listener but serves open connections until the
 *   clients close them, so a pooled client does not notice; tests kill it.
 */
import { MongoBulkWriteError, MongoClient, ObjectId, type Collection, type Document, type MongoClientOptions, type OptionalUnlessRequiredId } from 'mongodb'
import type { JobStatus, Output } from '../../protocol/index.ts'
import { planApply, type JobWrite } from './mongo-apply-plan.ts'
import { OneAtATime } from './one-at-a-time.ts'
import {
  fromJobDoc, fromNotebookDoc, fromSessionDoc, OUTPUT_PROJECTION, patchToSet, toJobDoc, toNotebookDoc, toOutputDoc, toSessionDoc,
  type JobDoc, type NotebookDoc, type OutputDoc, type SessionDoc,
} from './mongo-docs.ts'
import { MongoPrincipals } from './mongo-principals.ts'
import {
  ANONYMOUS, LIVE_STATUSES, type AccountRecord, type AccountRole, type AuditCursor, type AuditRecord, type Deleted, type JobPatch, type JobRecord, type JobTimes,
  type JobUpdate, type KeyRecord, type NotebookRecord, type SessionRecord, type Store, type StoreHealth, type UpdateResult,
} from './port.ts'

export const DEFAULT_MONGODB_DB = 'cellgate'

export interface MongoStoreOptions {
  /** Connection string (MONGODB_URI), e.g. `mongodb://db1,db2,db3/?replicaSet=rs0`. */
  uri: string
  /** Database name (CELLGATE_MONGODB_DB); default `cellgate`. */
  dbName?: string
  /** How long health() waits for a server before reporting it unreachable; default 2000 ms. */
  healthTimeoutMs?: number
  /** More driver options (TLS, pool sizes; tests turn on command monitoring). */
  clientOptions?: MongoClientOptions
}

/** A job with its outputs, as `importJobs` copies them. */
export interface ImportedJob {
  job: JobRecord
  outputs: readonly Output[]
}

const MAJORITY = { writeConcern: { w: 'majority' } } as const
const DUPLICATE_KEY = 11000
/** Each round after the first means another writer moved a job meanwhile; statuses only move forward, so a few rounds settle any batch. */
const MAX_APPLY_ROUNDS = 4

/**
 * @example
 *   const store = new MongoStore({ uri: 'mongodb://127.0.0.1:27017/?replicaSet=rs0', dbName: 'cellgate' })
 *   await store.open() // connects and creates the indexes
 */
export class MongoStore implements Store {
  readonly kind = 'mongodb' as const
  /** The driver client; exposed for command monitoring and tools. */
  readonly client: MongoClient
  private readonly healthClient: MongoClient
  readonly dbName: string
  private readonly jobs: Collection<JobDoc>
  private readonly outputs: Collection<OutputDoc>
  private readonly sessions: Collection<SessionDoc>
  private readonly notebooks: Collection<NotebookDoc>
  /** Accounts, keys and audit (mongo-principals.ts). */
  private readonly principals: MongoPrincipals
  /** apply(), useSession() and insertSession() calls each run one after the other. */
  private readonly applying = new OneAtATime()
  private readonly using = new OneAtATime()
  private readonly creating = new OneAtATime()
  private closed = false

  constructor(options: MongoStoreOptions) {
    this.dbName = options.dbName ?? DEFAULT_MONGODB_DB
    // ignoreUndefined: an absent optional field (error.stack) stays absent instead of coming back null.
    this.client = new MongoClient(options.uri, { appName: 'cellgate', ignoreUndefined: true, ...options.clientOptions })
    // The ordinary client waits the driver's 30 s for a server, long enough to ride out an election;
    // health() must answer quickly, so it pings through its own small client with short timeouts.
    const healthTimeoutMs = options.healthTimeoutMs ?? 2_000
    this.healthClient = new MongoClient(options.uri, {
      appName: 'cellgate-health',
      ...options.clientOptions,
      monitorCommands: false,
      maxPoolSize: 1,
      serverSelectionTimeoutMS: healthTimeoutMs,
      connectTimeoutMS: healthTimeoutMs,
      socketTimeoutMS: healthTimeoutMs,
    })
    // Operations that fail reject on their own; an 'error' event nobody listens to would end the process.
    for (const client of [this.client, this.healthClient]) client.on('error', () => {})
    const db = this.client.db(this.dbName)
    this.jobs = db.collection<JobDoc>('jobs')
    this.outputs = db.collection<OutputDoc>('outputs')
    this.sessions = db.collection<SessionDoc>('sessions')
    this.notebooks = db.collection<NotebookDoc>('notebooks')
    this.principals = new MongoPrincipals(db)
  }

  async open(): Promise<void> {
    await this.client.connect()
    // createIndex with the same name and keys is a no-op, so open() may run on every start. One index per
    // call, one after the other: FerretDB drops the connection when asked again for several at once.
    await this.jobs.createIndex({ status: 1, createdAt: 1 }, { name: 'status_createdAt' })
    await this.jobs.createIndex({ 'session.id': 1, 'session.cell': 1 }, { name: 'session_cell' })
    await this.jobs.createIndex({ endedAt: 1 }, { name: 'endedAt' })
    await this.outputs.createIndex({ jobId: 1, seq: 1 }, { name: 'jobId_seq', unique: true })
    await this.sessions.createIndex({ client: 1, status: 1 }, { name: 'client_status' })
    await this.sessions.createIndex({ status: 1, lastUsedAt: 1 }, { name: 'status_lastUsedAt' })
    await this.sessions.createIndex({ endedAt: 1 }, { name: 'endedAt' })
    await this.jobs.createIndex({ owner: 1, createdAt: -1 }, { name: 'owner_createdAt' })
    await this.notebooks.createIndex({ owner: 1, updatedAt: -1 }, { name: 'owner_updatedAt' })
    await this.principals.createIndexes()
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([this.client.close(), this.healthClient.close()])
  }

  async health(): Promise<StoreHealth> {
    if (this.closed) return { ok: false, kind: this.kind, detail: 'the store is closed' }
    try {
      await this.healthClient.db(this.dbName).command({ ping: 1 })
      return { ok: true, kind: this.kind }
    } catch (err) {
      return { ok: false, kind: this.kind, detail: (err as Error).message }
    }
  }

  async insertJob(job: JobRecord): Promise<void> {
    await this.jobs.insertOne(toJobDoc(job), MAJORITY)
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const doc = await this.jobs.findOne({ _id: id })
    return doc ? fromJobDoc(doc) : null
  }

  async getOutputs(jobId: string, afterSeq = 0, limit?: number): Promise<Output[]> {
    const cursor = this.outputs.find({ jobId, seq: { $gt: afterSeq } }).project<Output>(OUTPUT_PROJECTION).sort({ seq: 1 })
    if (limit !== undefined) cursor.limit(limit)
    return cursor.toArray()
  }

  async listJobsByOwner(owner: string, limit: number): Promise<JobRecord[]> {
    return (await this.jobs.find({ owner }).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray()).map(fromJobDoc)
  }

  async findJobsByStatus(statuses: readonly JobStatus[], limit?: number): Promise<JobRecord[]> {
    const cursor = this.jobs.find({ status: { $in: [...statuses] } }).sort({ createdAt: 1, _id: 1 })
    if (limit !== undefined) cursor.limit(limit)
    return (await cursor.toArray()).map(fromJobDoc)
  }

  /**
   * Runs the batch after the previous one has finished: a batch is planned
   * from the statuses it reads, which must not change under it because of
   * this process's own writes (and on FerretDB, updates are not atomic).
   */
  async apply(updates: readonly JobUpdate[]): Promise<UpdateResult[]> {
    if (updates.length === 0) return []
    return this.applying.run(() => this.applyNow(updates))
  }

  /**
   * Retention (see the port): the ended jobs due, then their outputs up to
   * the limit, then the jobs none of whose outputs is left. A few commands a
   * call, however many jobs it deletes.
   */
  async deleteEndedJobs(endedBefore: number, limit: number): Promise<Deleted> {
    const due = await this.jobs.find({ endedAt: { $lt: new Date(endedBefore) }, status: { $nin: [...LIVE_STATUSES] } })
      .sort({ endedAt: 1 }).limit(limit).project<{ _id: string }>({ _id: 1 }).toArray()
    if (due.length === 0) return { jobs: 0, outputs: 0 }
    const ids = due.map((d) => d._id)
    const outputIds = (await this.outputs.find({ jobId: { $in: ids } }).limit(limit).project<{ _id: ObjectId }>({ _id: 1 }).toArray()).map((d) => d._id)
    const outputs = outputIds.length === 0 ? 0 : (await this.outputs.deleteMany({ _id: { $in: outputIds } }, MAJORITY)).deletedCount
    // Fewer than the limit found means every output of these jobs is gone; otherwise ask which jobs still have some.
    const left = new Set(outputIds.length < limit ? [] : await this.outputs.distinct('jobId', { jobId: { $in: ids } }))
    const done = ids.filter((id) => !left.has(id))
    const jobs = done.length === 0 ? 0 : (await this.jobs.deleteMany({ _id: { $in: done } }, MAJORITY)).deletedCount
    return { jobs, outputs }
  }

  /**
   * Counts, then inserts, one creation after the other, so two requests to
   * this instance cannot both pass; creations racing on several web
   * instances still may (see the port).
   */
  async insertSession(session: SessionRecord, maxActive: number): Promise<boolean> {
    return this.creating.run(() => this.insertSessionNow(session, maxActive))
  }

  private async insertSessionNow(session: SessionRecord, maxActive: number): Promise<boolean> {
    if (await this.sessions.countDocuments({ client: session.client, status: 'active' }) >= maxActive) return false
    await this.sessions.insertOne(toSessionDoc(session), MAJORITY)
    return true
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const doc = await this.sessions.findOne({ _id: id })
    return doc ? fromSessionDoc(doc) : null
  }

  /** One at a time, as `apply`: on FerretDB an update is not atomic, and two cells must never get the same number. */
  async useSession(id: string, now: number): Promise<SessionRecord | null> {
    return this.using.run(() => this.useSessionNow(id, now))
  }

  private async useSessionNow(id: string, now: number): Promise<SessionRecord | null> {
    const doc = await this.sessions.findOneAndUpdate(
      { _id: id, status: 'active' },
      { $inc: { cells: 1 }, $set: { lastUsedAt: new Date(now) } },
      { returnDocument: 'after', ...MAJORITY },
    )
    return doc ? fromSessionDoc(doc) : null
  }

  async endSession(id: string, now: number, reason: string): Promise<boolean> {
    const result = await this.sessions.updateOne(
      { _id: id, status: 'active' },
      { $set: { status: 'ended', endedAt: new Date(now), endReason: reason } },
      MAJORITY,
    )
    return result.modifiedCount === 1
  }

  async findExpiredSessions(usedBefore: number, createdBefore: number, limit?: number): Promise<SessionRecord[]> {
    const cursor = this.sessions
      .find({ status: 'active', $or: [{ lastUsedAt: { $lt: new Date(usedBefore) } }, { createdAt: { $lt: new Date(createdBefore) } }] })
      .sort({ lastUsedAt: 1, _id: 1 })
    if (limit !== undefined) cursor.limit(limit)
    return (await cursor.toArray()).map(fromSessionDoc)
  }

  async deleteEndedSessions(endedBefore: number, limit: number): Promise<number> {
    const due = await this.sessions.find({ endedAt: { $lt: new Date(endedBefore) }, status: { $ne: 'active' } })
      .sort({ endedAt: 1 }).limit(limit).project<{ _id: string }>({ _id: 1 }).toArray()
    if (due.length === 0) return 0
    return (await this.sessions.deleteMany({ _id: { $in: due.map((d) => d._id) } }, MAJORITY)).deletedCount
  }

  async getSessionCells(id: string): Promise<string[]> {
    const docs = await this.jobs.find({ 'session.id': id }).sort({ 'session.cell': 1 }).project<{ _id: string }>({ _id: 1 }).toArray()
    return docs.map((d) => d._id)
  }

  async saveNotebook(notebook: NotebookRecord): Promise<void> {
    await this.notebooks.replaceOne({ _id: notebook.id }, toNotebookDoc(notebook), { upsert: true, ...MAJORITY })
  }

  async getNotebook(id: string): Promise<NotebookRecord | null> {
    const doc = await this.notebooks.findOne({ _id: id })
    return doc ? fromNotebookDoc(doc) : null
  }

  /** Documents written before owners existed have no owner field: they are ANONYMOUS's, and this finds them too. */
  async listNotebooksByOwner(owner: string, limit: number): Promise<NotebookRecord[]> {
    const filter = owner === ANONYMOUS ? { $or: [{ owner }, { owner: { $exists: false } }] } : { owner }
    return (await this.notebooks.find(filter).sort({ updatedAt: -1, _id: -1 }).limit(limit).toArray()).map(fromNotebookDoc)
  }

  async listNotebooks(limit: number, afterId?: string): Promise<NotebookRecord[]> {
    const docs = await this.notebooks.find(afterId === undefined ? {} : { _id: { $gt: afterId } }).sort({ _id: 1 }).limit(limit).toArray()
    return docs.map(fromNotebookDoc)
  }

  insertAccount(account: AccountRecord): Promise<boolean> { return this.principals.insertAccount(account) }
  getAccount(id: string): Promise<AccountRecord | null> { return this.principals.getAccount(id) }
  getAccountByName(name: string): Promise<AccountRecord | null> { return this.principals.getAccountByName(name) }
  getAccountByOidc(issuer: string, subject: string): Promise<AccountRecord | null> { return this.principals.getAccountByOidc(issuer, subject) }
  disableAccount(id: string, now: number): Promise<boolean> { return this.principals.disableAccount(id, now) }
  setAccountPassword(id: string, hash: string | null): Promise<boolean> { return this.principals.setAccountPassword(id, hash) }
  countAccounts(role?: AccountRole): Promise<number> { return this.principals.countAccounts(role) }
  listAccounts(limit: number, afterId?: string): Promise<AccountRecord[]> { return this.principals.listAccounts(limit, afterId) }
  insertKey(key: KeyRecord): Promise<void> { return this.principals.insertKey(key) }
  getKey(id: string): Promise<KeyRecord | null> { return this.principals.getKey(id) }
  getKeyByHash(hash: string): Promise<KeyRecord | null> { return this.principals.getKeyByHash(hash) }
  revokeKeyTree(id: string, now: number): Promise<number> { return this.principals.revokeKeyTree(id, now) }
  listKeyTree(id: string): Promise<KeyRecord[]> { return this.principals.listKeyTree(id) }
  listAccountKeys(accountId: string): Promise<KeyRecord[]> { return this.principals.listAccountKeys(accountId) }
  touchKey(id: string, now: number): Promise<void> { return this.principals.touchKey(id, now) }
  appendAudit(record: AuditRecord): Promise<void> { return this.principals.appendAudit(record) }
  listAudit(query: { before?: AuditCursor; limit: number }): Promise<AuditRecord[]> { return this.principals.listAudit(query) }

  /**
   * Copies jobs and their outputs as they are, skipping any job id or
   * (job, seq) already stored; returns how many of each were new. For
   * bin/migrate-to-mongo.ts: running it again copies nothing twice. Outputs
   * go first, so a job never shows up without them.
   *
   * @example
   *   await store.importJobs([{ job, outputs }]) // { jobs: 1, outputs: 3 }, then { jobs: 0, outputs: 0 }
   */
  async importJobs(entries: readonly ImportedJob[]): Promise<{ jobs: number; outputs: number }> {
    const outputs = await insertNew(this.outputs, entries.flatMap(({ job, outputs }) => outputs.map((o) => toOutputDoc(job.id, o))))
    const jobs = await insertNew(this.jobs, entries.map(({ job }) => toJobDoc(job)))
    return { jobs: jobs.filter(Boolean).length, outputs: outputs.filter(Boolean).length }
  }

  private async applyNow(updates: readonly JobUpdate[]): Promise<UpdateResult[]> {
    const results = updates.map((u): UpdateResult => ({ jobId: u.jobId, transitioned: false, inserted: [] }))
    let read = await this.readStatuses(updates.map((u) => u.jobId))
    const plan = planApply(updates, statusesOf(read))

    // Outputs before transitions: whoever sees a job finished finds all its outputs stored.
    const fresh = await insertNew(this.outputs, plan.outputs.map((o) => toOutputDoc(o.jobId, o.output)))
    plan.outputs.forEach((o, i) => {
      if (fresh[i]) results[o.update]!.inserted.push(o.output)
    })

    let writes = plan.writes
    for (let round = 0; writes.length > 0 && round < MAX_APPLY_ROUNDS; round++) {
      const missed = await this.writeTransitions(writes)
      for (const write of writes) {
        if (missed.has(write.jobId)) continue
        const times = timesAfter(read.get(write.jobId)!, write.patch)
        for (const i of write.updates) Object.assign(results[i]!, { transitioned: true, times })
      }
      if (missed.size === 0) break
      // Another writer moved these jobs between our read and our write: replay their transitions from where they are now.
      const retry = updates.map((u) => (missed.has(u.jobId) && u.transition ? { jobId: u.jobId, transition: u.transition } : { jobId: u.jobId }))
      read = await this.readStatuses([...missed])
      writes = planApply(retry, statusesOf(read)).writes
    }
    return results
  }

  /**
   * One bulk update for all writes; returns the jobs whose write did not
   * apply. The bulk result only counts matches, so when some missed, each
   * job's `applyId` tells whether this round's write is the one it carries.
   */
  private async writeTransitions(writes: readonly JobWrite[]): Promise<Set<string>> {
    const applyId = new ObjectId()
    const result = await this.jobs.bulkWrite(
      writes.map((w) => ({
        updateOne: {
          filter: { _id: w.jobId, status: w.from },
          update: { $set: { ...patchToSet(w.patch), status: w.to, applyId } },
        },
      })),
      { ordered: false, ...MAJORITY },
    )
    if (result.matchedCount === writes.length) return new Set()
    const ids = writes.map((w) => w.jobId)
    const applied = new Set((await this.jobs.find({ _id: { $in: ids }, applyId }).project<{ _id: string }>({ _id: 1 }).toArray()).map((d) => d._id))
    return new Set(ids.filter((id) => !applied.has(id)))
  }

  /**
   * The jobs' statuses, and their times for the results. Protected so a
   * test can hand the planner a stale read, as a concurrent writer would.
   */
  protected async readStatuses(jobIds: readonly string[]): Promise<Map<string, StatusRead>> {
    type Doc = Pick<JobDoc, '_id' | 'status' | 'createdAt' | 'startedAt' | 'endedAt'>
    const docs = await this.jobs.find({ _id: { $in: [...new Set(jobIds)] } }).project<Doc>({ status: 1, createdAt: 1, startedAt: 1, endedAt: 1 }).toArray()
    return new Map(docs.map((d) => [d._id, {
      status: d.status,
      createdAt: d.createdAt.getTime(),
      startedAt: d.startedAt?.getTime() ?? null,
      endedAt: d.endedAt?.getTime() ?? null,
    }]))
  }
}

/** A job as `apply` reads it before planning. */
export type StatusRead = { status: JobStatus } & JobTimes

function statusesOf(read: ReadonlyMap<string, StatusRead>): Map<string, JobStatus> {
  return new Map([...read].map(([id, r]) => [id, r.status]))
}

/** The job's times once a write with this patch has applied to the job as read. */
function timesAfter(read: StatusRead, patch: JobPatch): JobTimes {
  return {
    createdAt: read.createdAt,
    startedAt: 'startedAt' in patch ? patch.startedAt ?? null : read.startedAt,
    endedAt: 'endedAt' in patch ? patch.endedAt ?? null : read.endedAt,
  }
}

/**
 * Inserts documents unordered and tells, per document, whether it is new.
 * A duplicate key means the document was stored before; any other error is
 * a real failure and is thrown.
 */
async function insertNew<T extends Document>(collection: Collection<T>, docs: OptionalUnlessRequiredId<T>[]): Promise<boolean[]> {
  const fresh = docs.map(() => true)
  if (docs.length === 0) return fresh
  try {
    await collection.insertMany(docs, { ordered: false, ...MAJORITY })
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError) || err.result.getWriteConcernError()) throw err
    const writeErrors = [err.writeErrors].flat()
    if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== DUPLICATE_KEY)) throw err
    for (const e of writeErrors) fresh[e.index] = false
  }
  return fresh
}
