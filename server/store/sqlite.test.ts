/**
 * The store contract on the SQLite adapter, plus what only SQLite promises:
 * the file's place and permissions, WAL, the indexes behind retention and
 * key lookups, and files made by older releases opening with their rows.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { runStoreContract, sampleJob } from '../../test/support/contracts/store.ts'
import { SQLITE_FILE, SqliteStore } from './sqlite.ts'

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cellgate-sqlite-'))
}

runStoreContract('sqlite', async () => {
  const root = tempDir()
  const dataDir = join(root, 'data')
  return {
    store: new SqliteStore(dataDir),
    reopen: () => new SqliteStore(dataDir),
    destroy: async () => rmSync(root, { recursive: true, force: true }),
  }
})

describe('SqliteStore files', () => {
  const roots: string[] = []
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
  })

  it('creates the data directory for its own user only, the file 0600, in WAL mode', async () => {
    const root = tempDir()
    roots.push(root)
    const dataDir = join(root, 'nested', 'data')
    const store = new SqliteStore(dataDir)
    await store.open()
    await store.close()
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dataDir, SQLITE_FILE)).mode & 0o777).toBe(0o600)
    const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  /** The query plans of statements on a store file as the store makes it. */
  async function plansOn(...statements: string[]): Promise<string[]> {
    const root = tempDir()
    roots.push(root)
    const store = new SqliteStore(root)
    await store.open()
    await store.close()
    const db = new Database(join(root, SQLITE_FILE), { readonly: true })
    try {
      return statements.map((sql) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join('\n'))
    } finally {
      db.close()
    }
  }

  it('finds the ended jobs retention deletes through an index, not a scan of all jobs', async () => {
    const [plan] = await plansOn("SELECT id FROM jobs WHERE ended_at < 5 AND status NOT IN ('queued', 'running') ORDER BY ended_at LIMIT 10")
    expect(plan).toMatch(/USING INDEX jobs_by_end/)
  })

  it('finds a key by its hash, a key\'s subtree and an owner\'s jobs through indexes, not a scan', async () => {
    const [byHash, subtree, byOwner] = await plansOn(
      "SELECT * FROM api_keys WHERE secret_hash = 'x'",
      "UPDATE api_keys SET revoked_at = 1 WHERE revoked_at IS NULL AND (id = 'k' OR id IN (SELECT key_id FROM key_ancestors WHERE ancestor_id = 'k'))",
      "SELECT * FROM jobs WHERE owner = 'a' ORDER BY created_at DESC, rowid DESC LIMIT 10",
    )
    expect(byHash).toMatch(/USING INDEX sqlite_autoindex_api_keys/)
    expect(subtree).toMatch(/key_ancestors USING PRIMARY KEY \(ancestor_id=\?\)/)
    expect(subtree).not.toMatch(/SCAN api_keys/)
    expect(byOwner).toMatch(/USING INDEX jobs_by_owner/)
    expect(byOwner).not.toMatch(/TEMP B-TREE/)
  })

  it('opens a file made before sessions, keys, owners and fair shares, and reads its rows back with the defaults', async () => {
    const root = tempDir()
    roots.push(root)
    const old = new Database(join(root, SQLITE_FILE))
    // The tables as the first release made them.
    old.exec(`
      CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, code TEXT NOT NULL, owner TEXT NOT NULL, limits TEXT NOT NULL,
        priority INTEGER NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER, result TEXT, error TEXT, usage TEXT,
        dispatcher_boot TEXT, sandbox_id TEXT);
      CREATE TABLE sessions (id TEXT PRIMARY KEY, status TEXT NOT NULL, owner TEXT NOT NULL, client TEXT NOT NULL, memory_mb INTEGER NOT NULL,
        created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT, cells INTEGER NOT NULL);
      CREATE TABLE notebooks (id TEXT PRIMARY KEY, title TEXT NOT NULL, cells TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      INSERT INTO jobs VALUES ('oldjob', 'done', '1 + 1', 'anonymous', '{"wallMs":1,"cpuMs":1,"memoryMb":1,"outputBytes":1,"outputs":1}', 5, 10, 11, 12,
        '{"text":"2"}', NULL, NULL, 'boot', 'sb');
      INSERT INTO sessions VALUES ('oldsession', 'ended', 'anonymous', '::1', 64, 10, 11, 12, 'idle', 3);
      INSERT INTO notebooks VALUES ('oldnotebook', 'Old', '[{"code":"1"}]', 10, 20);
    `)
    old.close()
    const store = new SqliteStore(root)
    await store.open()
    expect(await store.getJob('oldjob')).toMatchObject({ id: 'oldjob', owner: 'anonymous', keyId: null, private: false, account: 'anonymous', session: null, result: { text: '2' } })
    expect(await store.getSession('oldsession')).toMatchObject({ id: 'oldsession', owner: 'anonymous', keyId: null, cells: 3 })
    expect(await store.getNotebook('oldnotebook')).toEqual({ id: 'oldnotebook', title: 'Old', cells: [{ code: '1' }], owner: 'anonymous', keyId: null, createdAt: 10, updatedAt: 20 })
    expect((await store.listJobsByOwner('anonymous', 5)).map((j) => j.id)).toEqual(['oldjob'])
    expect((await store.listNotebooksByOwner('anonymous', 5)).map((n) => n.id)).toEqual(['oldnotebook'])
    // New rows go in beside the old ones, and the file opens again as it is now.
    const job = sampleJob({ owner: 'acc-me', keyId: 'key-me', private: true, account: 'acc-me' })
    await store.insertJob(job)
    await store.close()
    const again = new SqliteStore(root)
    await again.open()
    expect(await again.getJob(job.id)).toEqual(job)
    expect(await again.countAccounts()).toBe(0)
    await again.close()
  })

  it('reports unhealthy and refuses calls once closed', async () => {
    const root = tempDir()
    roots.push(root)
    const store = new SqliteStore(root)
    await store.open()
    await store.close()
    expect(await store.health()).toMatchObject({ ok: false, kind: 'sqlite' })
    await expect(store.getJob('abcdefgh')).rejects.toThrow(/not open/)
    await expect(store.getKeyByHash('abcdefgh')).rejects.toThrow(/not open/)
  })
})
