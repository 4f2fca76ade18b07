/**
 * The store contract on the SQLite adapter, plus what only SQLite promises:
 * the file's place and permissions, and WAL.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { runStoreContract } from '../../test/support/contracts/store.ts'
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

  it('finds the ended jobs retention deletes through an index, not a scan of all jobs', async () => {
    const root = tempDir()
    roots.push(root)
    const store = new SqliteStore(root)
    await store.open()
    await store.close()
    const db = new Database(join(root, SQLITE_FILE), { readonly: true })
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE ended_at < 5 AND status NOT IN ('queued', 'running') ORDER BY ended_at LIMIT 10")
      .all() as { detail: string }[]
    db.close()
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX jobs_by_end/)
  })

  it('reports unhealthy and refuses calls once closed', async () => {
    const root = tempDir()
    roots.push(root)
    const store = new SqliteStore(root)
    await store.open()
    await store.close()
    expect(await store.health()).toMatchObject({ ok: false, kind: 'sqlite' })
    await expect(store.getJob('abcdefgh')).rejects.toThrow(/not open/)
  })
})
