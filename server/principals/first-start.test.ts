/**
 * The first start of a store, on real SQLite: it makes the anonymous account
 * and one admin — with the bootstrap key's exact secret when one is given,
 * else with a password it logs once — and does nothing on later starts, nor
 * when several web instances start at once.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { capturingLogger } from '../../test/support/logs.ts'
import { ADMIN_KEY } from '../../test/support/principals.ts'
import { tempDir } from '../../test/support/temp-dir.ts'
import { SqliteStore } from '../store/sqlite.ts'
import { ANONYMOUS } from '../store/port.ts'
import { ADMIN_NAME, firstStart } from './first-start.ts'
import { resolveKey } from './keys.ts'
import { verifyPassword } from './password.ts'

let store: SqliteStore
let remove: () => void
afterEach(async () => {
  await store?.close()
  remove?.()
})

async function openStore(): Promise<SqliteStore> {
  const tmp = tempDir('cellgate-first-start-')
  remove = tmp.remove
  store = new SqliteStore(join(tmp.dir, 'data'))
  await store.open()
  return store
}

describe('first start', () => {
  it('makes an admin with a password shown once, which logs in; later starts make nothing', async () => {
    await openStore()
    const { logger, records } = capturingLogger()
    await firstStart(store, { url: 'http://127.0.0.1:8080/' }, logger)
    const told = records.filter((r) => r.msg?.includes('first start'))
    expect(told).toHaveLength(1)
    const password = /the password (\S+) \(shown this once\)/.exec(told[0]!.msg!)?.[1]
    const admin = await store.getAccountByName(ADMIN_NAME)
    expect(admin).toMatchObject({ role: 'admin', disabledAt: null })
    expect(await verifyPassword(password!, admin!.passwordHash!)).toBe(true)
    expect(await store.getAccount(ANONYMOUS)).toMatchObject({ name: ANONYMOUS, role: 'user', passwordHash: null })

    await firstStart(store, { url: 'http://127.0.0.1:8080/' }, logger)
    expect(records.filter((r) => r.msg?.includes('first start'))).toHaveLength(1)
    expect(await store.countAccounts('admin')).toBe(1)
  })

  it('gives the admin a key with exactly the bootstrap secret, holding every scope', async () => {
    await openStore()
    await firstStart(store, { bootstrapKey: ADMIN_KEY, url: 'http://127.0.0.1/' }, capturingLogger().logger)
    const found = await resolveKey(store, ADMIN_KEY, Date.now())
    expect(found?.account).toMatchObject({ name: ADMIN_NAME, role: 'admin' })
    expect(found?.key.grant.scopes).toContain('admin')
  })

  it('makes one admin when several instances start at once', async () => {
    await openStore()
    const { logger, records } = capturingLogger()
    await Promise.all(Array.from({ length: 4 }, () => firstStart(store, { url: 'http://127.0.0.1/' }, logger)))
    expect(await store.countAccounts('admin')).toBe(1)
    expect(records.filter((r) => r.msg?.includes('first start'))).toHaveLength(1)
  })
})
