/**
 * The embedded store: one SQLite file in the server's data directory, used
 * when no MongoDB is configured. better-sqlite3 is synchronous, so each call
 * runs to completion before any other JavaScript; `apply` is one transaction,
 * which is what makes a batch of dispatcher messages cost one fsync at most.
 *
 * WAL with synchronous=NORMAL: a crash of the process loses nothing, a power
 * cut may lose the last transactions, which the dispatcher re-sends because
 * they were never acked.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { JobStatus, Output } from '../../protocol/index.ts'
import { LIVE_STATUSES, type JobPatch, type JobRecord, type JobUpdate, type Store, type StoreHealth, type UpdateResult } from './port.ts'

/** The file name of the store inside the data directory. */
export const SQLITE_FILE = 'cellgate.db'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  code TEXT NOT NULL,
  owner TEXT NOT NULL,
  limits TEXT NOT NULL,
  priority INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  result TEXT,
  error TEXT,
  usage TEXT,
  dispatcher_boot TEXT,
  sandbox_id TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE TABLE IF NOT EXISTS outputs (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  stream TEXT NOT NULL,
  mime TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
`

interface JobRow {
  id: string
  status: JobStatus
  code: string
  owner: string
  limits: string
  priority: number
  created_at: number
  started_at: number | null
  ended_at: number | null
  result: string | null
  error: string | null
  usage: string | null
  dispatcher_boot: string | null
  sandbox_id: string | null
}

interface PendingInsert {
  job: JobRecord
  resolve: () => void
  reject: (err: Error) => void
}

/** Each patchable column with a flag saying whether the patch sets it, so one prepared UPDATE serves every patch. */
const PATCH_COLUMNS = [
  ['startedAt', 'started_at'],
  ['endedAt', 'ended_at'],
  ['result', 'result'],
  ['error', 'error'],
  ['usage', 'usage'],
  ['dispatcherBoot', 'dispatcher_boot'],
  ['sandboxId', 'sandbox_id'],
] as const satisfies readonly (readonly [keyof JobPatch, string])[]

const JSON_FIELDS = new Set<keyof JobPatch>(['result', 'error', 'usage'])

/**
 * @example
 *   const store = new SqliteStore('./data')   // opens ./data/cellgate.db on open()
 *   await store.open()
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  readonly file: string
  private db: Database.Database | undefined
  private statements: ReturnType<typeof prepare> | undefined
  private inserts: PendingInsert[] = []

  constructor(readonly dataDir: string) {
    this.file = join(dataDir, SQLITE_FILE)
  }

  async open(): Promise<void> {
    if (this.db) return
    // Jobs hold users' code and outputs: only the server's own user may read them.
    // A directory that already exists is left as its owner set it up.
    if (mkdirSync(this.dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(this.dataDir, 0o700)
    // Created 0600 before SQLite opens it; SQLite gives the -wal and -shm files the same mode.
    closeSync(openSync(this.file, 'a', 0o600))
    const db = new Database(this.file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(SCHEMA)
    this.db = db
    this.statements = prepare(db)
  }

  async close(): Promise<void> {
    this.db?.close()
    this.db = undefined
    this.statements = undefined
  }

  async health(): Promise<StoreHealth> {
    try {
      this.sql().ping.get()
      return { ok: true, kind: 'sqlite' }
    } catch (err) {
      return { ok: false, kind: 'sqlite', detail: (err as Error).message }
    }
  }

  /**
   * Inserts made in the same tick share one transaction (one WAL commit
   * instead of one each, which is most of the cost of a submit under load);
   * each promise still settles with its own job's outcome.
   */
  async insertJob(job: JobRecord): Promise<void> {
    const sql = this.sql()
    return new Promise((resolve, reject) => {
      this.inserts.push({ job, resolve, reject })
      if (this.inserts.length === 1) setImmediate(() => sql.insertAll(this.inserts.splice(0)))
    })
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = this.sql().getJob.get(id) as JobRow | undefined
    return row ? fromRow(row) : null
  }

  async getOutputs(jobId: string, afterSeq = 0): Promise<Output[]> {
    return this.sql().getOutputs.all(jobId, afterSeq) as Output[]
  }

  async findJobsByStatus(statuses: readonly JobStatus[], limit = -1): Promise<JobRecord[]> {
    const rows = this.sql().findByStatus.all(JSON.stringify(statuses), limit) as JobRow[]
    return rows.map(fromRow)
  }

  async apply(updates: readonly JobUpdate[]): Promise<UpdateResult[]> {
    const sql = this.sql()
    return sql.applyAll(updates)
  }

  private sql(): ReturnType<typeof prepare> {
    if (!this.statements) throw new Error('SqliteStore is not open')
    return this.statements
  }
}

function prepare(db: Database.Database) {
  const ping = db.prepare('SELECT 1')
  const insertJob = db.prepare(`INSERT INTO jobs
    (id, status, code, owner, limits, priority, created_at, started_at, ended_at, result, error, usage, dispatcher_boot, sandbox_id)
    VALUES (@id, @status, @code, @owner, @limits, @priority, @created_at, @started_at, @ended_at, @result, @error, @usage, @dispatcher_boot, @sandbox_id)`)
  const getJob = db.prepare('SELECT * FROM jobs WHERE id = ?')
  const getOutputs = db.prepare('SELECT seq, stream, mime, data FROM outputs WHERE job_id = ? AND seq > ? ORDER BY seq')
  const findByStatus = db.prepare(`SELECT * FROM jobs WHERE status IN (SELECT value FROM json_each(?))
    ORDER BY created_at, rowid LIMIT ?`)
  const liveStatus = db.prepare(`SELECT 1 FROM jobs WHERE id = ? AND status IN (${LIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`)
  const insertOutput = db.prepare('INSERT OR IGNORE INTO outputs (job_id, seq, stream, mime, data) VALUES (?, ?, ?, ?, ?)')
  const transition = db.prepare(`UPDATE jobs SET status = @to,
    ${PATCH_COLUMNS.map(([key, column]) => `${column} = iif(@set_${key}, @${key}, ${column})`).join(',\n    ')}
    WHERE id = @id AND status IN (SELECT value FROM json_each(@from))`)

  const applyOne = (update: JobUpdate): UpdateResult => {
    const inserted: Output[] = []
    if (update.outputs?.length && liveStatus.get(update.jobId)) {
      for (const o of update.outputs) {
        if (insertOutput.run(update.jobId, o.seq, o.stream, o.mime, o.data).changes === 1) inserted.push(o)
      }
    }
    let transitioned = false
    if (update.transition) {
      const { from, to, patch = {} } = update.transition
      const params: Record<string, unknown> = { id: update.jobId, to, from: JSON.stringify(from) }
      for (const [key] of PATCH_COLUMNS) {
        const set = key in patch
        params[`set_${key}`] = set ? 1 : 0
        const value = set ? patch[key] ?? null : null
        params[key] = JSON_FIELDS.has(key) ? toJson(value) : value
      }
      transitioned = transition.run(params).changes === 1
    }
    return { jobId: update.jobId, transitioned, inserted }
  }

  const applyAll = db.transaction((updates: readonly JobUpdate[]) => updates.map(applyOne))

  const insertEach = db.transaction((pending: readonly PendingInsert[]) => pending.map(({ job }) => {
    try {
      insertJob.run(jobParams(job))
      return null
    } catch (err) {
      // A failed statement is undone alone; the others in the transaction stand.
      return err as Error
    }
  }))
  const insertAll = (pending: readonly PendingInsert[]): void => {
    let errors: (Error | null)[]
    try {
      errors = insertEach(pending)
    } catch (err) {
      errors = pending.map(() => err as Error)
    }
    pending.forEach((p, i) => (errors[i] ? p.reject(errors[i]) : p.resolve()))
  }
  return { ping, getJob, getOutputs, findByStatus, applyAll, insertAll }
}

function jobParams(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    code: job.code,
    owner: job.owner,
    limits: JSON.stringify(job.limits),
    priority: job.priority,
    created_at: job.createdAt,
    started_at: job.startedAt,
    ended_at: job.endedAt,
    result: toJson(job.result),
    error: toJson(job.error),
    usage: toJson(job.usage),
    dispatcher_boot: job.dispatcherBoot,
    sandbox_id: job.sandboxId,
  }
}

function toJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

function fromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    status: row.status,
    code: row.code,
    owner: row.owner,
    limits: JSON.parse(row.limits),
    priority: row.priority,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error === null ? null : JSON.parse(row.error),
    usage: row.usage === null ? null : JSON.parse(row.usage),
    dispatcherBoot: row.dispatcher_boot,
    sandboxId: row.sandbox_id,
  }
}
