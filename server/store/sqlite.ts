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
import {
  LIVE_STATUSES, type AccountRecord, type AccountRole, type AuditCursor, type AuditRecord, type Deleted, type JobPatch, type JobRecord, type JobTimes,
  type JobUpdate, type KeyRecord, type NotebookRecord, type SessionRecord, type Store, type StoreHealth, type UpdateResult,
} from './port.ts'
import { PRINCIPAL_SCHEMA, SqlitePrincipals } from './sqlite-principals.ts'
import {
  fromJobRow, fromNotebookRow, fromSessionRow, jobParams, sessionParams, toJson, type JobRow, type NotebookRow, type SessionRow,
} from './sqlite-rows.ts'

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
-- Retention finds ended jobs by end time; live jobs (no end yet) stay out of the index.
CREATE INDEX IF NOT EXISTS jobs_by_end ON jobs (ended_at) WHERE ended_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  owner TEXT NOT NULL,
  client TEXT NOT NULL,
  memory_mb INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT,
  cells INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_client ON sessions (client, status);
CREATE INDEX IF NOT EXISTS sessions_by_status ON sessions (status, last_used_at);
CREATE INDEX IF NOT EXISTS sessions_by_end ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS notebooks (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  cells TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  stream TEXT NOT NULL,
  mime TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
`

/**
 * Columns added to a table after its first release: added to a file made
 * before them when it is opened, with the default its old rows then read back with.
 */
const ADDED_COLUMNS = [
  ['jobs', 'session_id', 'TEXT'],
  ['jobs', 'session_cell', 'INTEGER'],
  ['jobs', 'key_id', 'TEXT'],
  ['jobs', 'private', 'INTEGER NOT NULL DEFAULT 0'],
  ['jobs', 'account', 'TEXT'],
  ['sessions', 'key_id', 'TEXT'],
  ['notebooks', 'owner', "TEXT NOT NULL DEFAULT 'anonymous'"],
  ['notebooks', 'key_id', 'TEXT'],
] as const

/** Indexes on added columns, made once the columns are there. */
const ADDED_INDEXES = `
CREATE INDEX IF NOT EXISTS jobs_by_session ON jobs (session_id, session_cell) WHERE session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS notebooks_by_owner ON notebooks (owner, updated_at);
`

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
  private principalStatements: SqlitePrincipals | undefined
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
    addMissingColumns(db)
    db.exec(ADDED_INDEXES)
    db.exec(PRINCIPAL_SCHEMA)
    this.db = db
    this.statements = prepare(db)
    this.principalStatements = new SqlitePrincipals(db)
  }

  async close(): Promise<void> {
    this.db?.close()
    this.db = undefined
    this.statements = undefined
    this.principalStatements = undefined
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
    return row ? fromJobRow(row) : null
  }

  async getOutputs(jobId: string, afterSeq = 0, limit = -1): Promise<Output[]> {
    return this.sql().getOutputs.all(jobId, afterSeq, limit) as Output[]
  }

  async listJobsByOwner(owner: string, limit: number): Promise<JobRecord[]> {
    return (this.sql().listJobsByOwner.all(owner, limit) as JobRow[]).map(fromJobRow)
  }

  async findJobsByStatus(statuses: readonly JobStatus[], limit = -1): Promise<JobRecord[]> {
    const rows = this.sql().findByStatus.all(JSON.stringify(statuses), limit) as JobRow[]
    return rows.map(fromJobRow)
  }

  async apply(updates: readonly JobUpdate[]): Promise<UpdateResult[]> {
    const sql = this.sql()
    return sql.applyAll(updates)
  }

  async deleteEndedJobs(endedBefore: number, limit: number): Promise<Deleted> {
    return this.sql().deleteEnded(endedBefore, limit)
  }

  async insertSession(session: SessionRecord, maxActive: number): Promise<boolean> {
    return this.sql().insertSession(session, maxActive)
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const row = this.sql().getSession.get(id) as SessionRow | undefined
    return row ? fromSessionRow(row) : null
  }

  async useSession(id: string, now: number): Promise<SessionRecord | null> {
    const row = this.sql().useSession.get(now, id) as SessionRow | undefined
    return row ? fromSessionRow(row) : null
  }

  async endSession(id: string, now: number, reason: string): Promise<boolean> {
    return this.sql().endSession.run(now, reason, id).changes === 1
  }

  async findExpiredSessions(usedBefore: number, createdBefore: number, limit = -1): Promise<SessionRecord[]> {
    return (this.sql().findExpiredSessions.all(usedBefore, createdBefore, limit) as SessionRow[]).map(fromSessionRow)
  }

  async deleteEndedSessions(endedBefore: number, limit: number): Promise<number> {
    return this.sql().deleteEndedSessions.run(endedBefore, limit).changes
  }

  async getSessionCells(id: string): Promise<string[]> {
    return this.sql().getSessionCells.pluck().all(id) as string[]
  }

  async saveNotebook(notebook: NotebookRecord): Promise<void> {
    const { id, title, cells, owner, keyId, createdAt, updatedAt } = notebook
    this.sql().saveNotebook.run({ id, title, cells: JSON.stringify(cells), owner, key_id: keyId, created_at: createdAt, updated_at: updatedAt })
  }

  async getNotebook(id: string): Promise<NotebookRecord | null> {
    const row = this.sql().getNotebook.get(id) as NotebookRow | undefined
    return row ? fromNotebookRow(row) : null
  }

  async listNotebooksByOwner(owner: string, limit: number): Promise<NotebookRecord[]> {
    return (this.sql().listNotebooksByOwner.all(owner, limit) as NotebookRow[]).map(fromNotebookRow)
  }

  async listNotebooks(limit: number, afterId = ''): Promise<NotebookRecord[]> {
    return (this.sql().listNotebooks.all(afterId, limit) as NotebookRow[]).map(fromNotebookRow)
  }

  // Accounts, keys and audit: sqlite-principals.ts.
  async insertAccount(account: AccountRecord): Promise<boolean> { return this.principals().insertAccount(account) }
  async getAccount(id: string): Promise<AccountRecord | null> { return this.principals().getAccount(id) }
  async getAccountByName(name: string): Promise<AccountRecord | null> { return this.principals().getAccountByName(name) }
  async getAccountByOidc(issuer: string, subject: string): Promise<AccountRecord | null> { return this.principals().getAccountByOidc(issuer, subject) }
  async disableAccount(id: string, now: number): Promise<boolean> { return this.principals().disableAccount(id, now) }
  async setAccountPassword(id: string, hash: string | null): Promise<boolean> { return this.principals().setAccountPassword(id, hash) }
  async countAccounts(role?: AccountRole): Promise<number> { return this.principals().countAccounts(role) }
  async listAccounts(limit: number, afterId?: string): Promise<AccountRecord[]> { return this.principals().listAccounts(limit, afterId) }
  async insertKey(key: KeyRecord): Promise<void> { return this.principals().insertKey(key) }
  async getKey(id: string): Promise<KeyRecord | null> { return this.principals().getKey(id) }
  async getKeyByHash(hash: string): Promise<KeyRecord | null> { return this.principals().getKeyByHash(hash) }
  async revokeKeyTree(id: string, now: number): Promise<number> { return this.principals().revokeKeyTree(id, now) }
  async listKeyTree(id: string): Promise<KeyRecord[]> { return this.principals().listKeyTree(id) }
  async listAccountKeys(accountId: string): Promise<KeyRecord[]> { return this.principals().listAccountKeys(accountId) }
  async touchKey(id: string, now: number): Promise<void> { return this.principals().touchKey(id, now) }
  async appendAudit(record: AuditRecord): Promise<void> { return this.principals().appendAudit(record) }
  async listAudit(query: { before?: AuditCursor; limit: number }): Promise<AuditRecord[]> { return this.principals().listAudit(query) }

  private sql(): ReturnType<typeof prepare> {
    if (!this.statements) throw new Error('SqliteStore is not open')
    return this.statements
  }

  private principals(): SqlitePrincipals {
    if (!this.principalStatements) throw new Error('SqliteStore is not open')
    return this.principalStatements
  }
}

function prepare(db: Database.Database) {
  const ping = db.prepare('SELECT 1')
  const insertJob = db.prepare(`INSERT INTO jobs
    (id, status, code, owner, key_id, private, limits, priority, account, created_at, started_at, ended_at, result, error, usage, dispatcher_boot,
      sandbox_id, session_id, session_cell)
    VALUES (@id, @status, @code, @owner, @key_id, @private, @limits, @priority, @account, @created_at, @started_at, @ended_at, @result, @error,
      @usage, @dispatcher_boot, @sandbox_id, @session_id, @session_cell)`)
  const getJob = db.prepare('SELECT * FROM jobs WHERE id = ?')
  const listJobsByOwner = db.prepare('SELECT * FROM jobs WHERE owner = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
  const getOutputs = db.prepare('SELECT seq, stream, mime, data FROM outputs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?')
  const findByStatus = db.prepare(`SELECT * FROM jobs WHERE status IN (SELECT value FROM json_each(?))
    ORDER BY created_at, rowid LIMIT ?`)
  const live = LIVE_STATUSES.map((s) => `'${s}'`).join(', ')
  const liveStatus = db.prepare(`SELECT 1 FROM jobs WHERE id = ? AND status IN (${live})`)
  const insertOutput = db.prepare('INSERT OR IGNORE INTO outputs (job_id, seq, stream, mime, data) VALUES (?, ?, ?, ?, ?)')
  const transition = db.prepare(`UPDATE jobs SET status = @to,
    ${PATCH_COLUMNS.map(([key, column]) => `${column} = iif(@set_${key}, @${key}, ${column})`).join(',\n    ')}
    WHERE id = @id AND status IN (SELECT value FROM json_each(@from))
    RETURNING created_at, started_at, ended_at`)

  const applyOne = (update: JobUpdate): UpdateResult => {
    const inserted: Output[] = []
    if (update.outputs?.length && liveStatus.get(update.jobId)) {
      for (const o of update.outputs) {
        if (insertOutput.run(update.jobId, o.seq, o.stream, o.mime, o.data).changes === 1) inserted.push(o)
      }
    }
    let times: JobTimes | undefined
    if (update.transition) {
      const { from, to, patch = {} } = update.transition
      const params: Record<string, unknown> = { id: update.jobId, to, from: JSON.stringify(from) }
      for (const [key] of PATCH_COLUMNS) {
        const set = key in patch
        params[`set_${key}`] = set ? 1 : 0
        const value = set ? patch[key] ?? null : null
        params[key] = JSON_FIELDS.has(key) ? toJson(value) : value
      }
      const row = transition.get(params) as Pick<JobRow, 'created_at' | 'started_at' | 'ended_at'> | undefined
      if (row) times = { createdAt: row.created_at, startedAt: row.started_at, endedAt: row.ended_at }
    }
    return times ? { jobId: update.jobId, transitioned: true, inserted, times } : { jobId: update.jobId, transitioned: false, inserted }
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
  const deleteEnded = prepareRetention(db, live)
  const countActive = db.prepare("SELECT count(*) FROM sessions WHERE client = ? AND status = 'active'").pluck()
  const insertSessionRow = db.prepare(`INSERT INTO sessions
    (id, status, owner, key_id, client, memory_mb, created_at, last_used_at, ended_at, end_reason, cells)
    VALUES (@id, @status, @owner, @key_id, @client, @memory_mb, @created_at, @last_used_at, @ended_at, @end_reason, @cells)`)
  // One transaction: no other insert can come between the count and the insert.
  const insertSession = db.transaction((session: SessionRecord, maxActive: number): boolean => {
    if ((countActive.get(session.client) as number) >= maxActive) return false
    insertSessionRow.run(sessionParams(session))
    return true
  })
  const getSession = db.prepare('SELECT * FROM sessions WHERE id = ?')
  const useSession = db.prepare("UPDATE sessions SET cells = cells + 1, last_used_at = ? WHERE id = ? AND status = 'active' RETURNING *")
  const endSession = db.prepare("UPDATE sessions SET status = 'ended', ended_at = ?, end_reason = ? WHERE id = ? AND status = 'active'")
  const findExpiredSessions = db.prepare(`SELECT * FROM sessions WHERE status = 'active' AND (last_used_at < ? OR created_at < ?)
    ORDER BY last_used_at, rowid LIMIT ?`)
  const deleteEndedSessions = db.prepare(`DELETE FROM sessions WHERE rowid IN
    (SELECT rowid FROM sessions WHERE ended_at < ? AND status <> 'active' ORDER BY ended_at LIMIT ?)`)
  const getSessionCells = db.prepare('SELECT id FROM jobs WHERE session_id = ? ORDER BY session_cell')
  // A notebook's cells are read and written whole, never queried: one JSON column.
  const saveNotebook = db.prepare(`INSERT OR REPLACE INTO notebooks (id, title, cells, owner, key_id, created_at, updated_at)
    VALUES (@id, @title, @cells, @owner, @key_id, @created_at, @updated_at)`)
  const getNotebook = db.prepare('SELECT * FROM notebooks WHERE id = ?')
  const listNotebooksByOwner = db.prepare('SELECT * FROM notebooks WHERE owner = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?')
  const listNotebooks = db.prepare('SELECT * FROM notebooks WHERE id > ? ORDER BY id LIMIT ?')
  return {
    ping, getJob, listJobsByOwner, getOutputs, findByStatus, applyAll, deleteEnded, insertAll, insertSession, getSession, useSession, endSession,
    findExpiredSessions, deleteEndedSessions, getSessionCells, saveNotebook, getNotebook, listNotebooksByOwner, listNotebooks,
  }
}

/**
 * Retention's delete (see the port's deleteEndedJobs) as one transaction:
 * each job's outputs by the primary key, then the job once none is left.
 */
function prepareRetention(db: Database.Database, live: string) {
  const ended = db.prepare(`SELECT id FROM jobs WHERE ended_at < ? AND status NOT IN (${live}) ORDER BY ended_at LIMIT ?`).pluck()
  const deleteOutputs = db.prepare('DELETE FROM outputs WHERE rowid IN (SELECT rowid FROM outputs WHERE job_id = ? ORDER BY seq LIMIT ?)')
  const deleteJob = db.prepare('DELETE FROM jobs WHERE id = ?')
  return db.transaction((endedBefore: number, limit: number): Deleted => {
    const deleted = { jobs: 0, outputs: 0 }
    for (const id of ended.all(endedBefore, limit) as string[]) {
      deleted.outputs += deleteOutputs.run(id, limit - deleted.outputs).changes
      // The budget may have ended inside this job's outputs: the next call finishes it.
      if (deleted.outputs === limit) break
      deleted.jobs += deleteJob.run(id).changes
    }
    return deleted
  })
}

function addMissingColumns(db: Database.Database): void {
  for (const [table, column, type] of ADDED_COLUMNS) {
    const columns = db.pragma(`table_info(${table})`) as { name: string }[]
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`)
  }
}
