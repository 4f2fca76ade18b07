/**
 * The key service against a real SQLite store: root keys and their
 * secrets, sub-keys that only narrow, publishable keys, revocation of a
 * subtree by a key inside it and only there, resolving a secret to a live
 * key, and a sub-key made while its parent is revoked on another store
 * instance over the same data (SQLite, and MongoDB where one can be had).
 *
 *   root (keys:manage, cells:run, sessions:use, notebooks:read)
 *    ├── middle (keys:manage, cells:run)
 *    │    └── leaf (cells:run)
 *    └── sibling
 */
import { setImmediate as tick } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sampleAccount } from '../../test/support/contracts/samples.ts'
import { mongoMissing, startTestMongo, type TestMongo } from '../../test/support/ferretdb.ts'
import { describeWith } from '../../test/support/needs.ts'
import { tempDir } from '../../test/support/temp-dir.ts'
import { MongoStore } from '../store/mongo.ts'
import type { AccountRecord, KeyRecord, PrincipalStore } from '../store/port.ts'
import { SqliteStore } from '../store/sqlite.ts'
import { hashKeySecret } from './key-secret.ts'
import { createRootKey, createSubKey, resolveKey, revokeKey, type MadeKey, type SubKeyCreation } from './keys.ts'
import type { Grant } from './rights.ts'

const NOW = 1_800_000_000_000
const FULL: Grant = { scopes: ['keys:manage', 'cells:run', 'sessions:use', 'notebooks:read'], resource: null, origins: null, notBefore: null, expiresAt: null, caps: {} }

let tmp: ReturnType<typeof tempDir>
let store: SqliteStore
let account: AccountRecord

beforeEach(async () => {
  tmp = tempDir('cellgate-keys-')
  store = new SqliteStore(tmp.dir)
  await store.open()
  account = sampleAccount()
  await store.insertAccount(account)
})

afterEach(async () => {
  await store.close()
  tmp.remove()
})

function made<T extends SubKeyCreation>(creation: T): MadeKey {
  if (!('record' in creation)) throw new Error(`expected a key, got ${JSON.stringify(creation)}`)
  return creation
}

async function rootKey(grant: Grant = FULL): Promise<MadeKey> {
  return made(await createRootKey(store, account, { name: 'root', grant, kind: 'secret' }, NOW))
}

describe('root keys', () => {
  it('are stored by the hash of a secret shown only once, under their account, with the grant given', async () => {
    const root = await rootKey()
    expect(root.secret).toMatch(/^cg_sk_[A-Za-z0-9_-]{43}$/)
    expect(root.record).toMatchObject({ accountId: account.id, parentId: null, ancestors: [], kind: 'secret', grant: FULL, createdAt: NOW, revokedAt: null })
    expect(root.record.secretHash).toBe(hashKeySecret(root.secret))
    expect(root.record.prefix).toBe(root.secret.slice(0, 12))
    expect(JSON.stringify(await store.listAccountKeys(account.id))).not.toContain(root.secret)
    expect(await store.getKeyByHash(hashKeySecret(root.secret))).toEqual(root.record)
  })

  it('of kind login have a secret key\'s shape', async () => {
    const login = made(await createRootKey(store, account, { name: 'web login', grant: FULL, kind: 'login' }, NOW))
    expect(login.secret.startsWith('cg_sk_')).toBe(true)
    expect(login.record.kind).toBe('login')
  })

  it('that are publishable must name their origins and hold only cells:run and sessions:use', async () => {
    const page = { ...FULL, scopes: ['cells:run'] as const, origins: ['https://course.example'] }
    const ok = made(await createRootKey(store, account, { name: 'course', grant: page, kind: 'publishable' }, NOW))
    expect(ok.secret.startsWith('cg_pk_')).toBe(true)
    expect(await createRootKey(store, account, { name: 'x', grant: { ...page, origins: null }, kind: 'publishable' }, NOW))
      .toEqual({ refusal: { dimension: 'origins', message: expect.stringMatching(/origins/) } })
    expect(await createRootKey(store, account, { name: 'x', grant: { ...page, origins: [] }, kind: 'publishable' }, NOW))
      .toMatchObject({ refusal: { dimension: 'origins' } })
    expect(await createRootKey(store, account, { name: 'x', grant: { ...page, scopes: ['cells:run', 'notebooks:read'] }, kind: 'publishable' }, NOW))
      .toMatchObject({ refusal: { dimension: 'scopes', message: expect.stringMatching(/notebooks:read/) } })
    expect(await store.listAccountKeys(account.id)).toEqual([ok.record])
  })
})

describe('sub-keys', () => {
  it('take what they ask for within their parent, and the rest from it', async () => {
    const root = await rootKey({ ...FULL, expiresAt: NOW + 10_000, caps: { wallMs: 5_000 } })
    const child = made(await createSubKey(store, root.record, { name: 'grader', request: { scopes: ['cells:run'], caps: { wallMs: 1_000 } } }, NOW + 1))
    expect(child.record).toMatchObject({
      accountId: account.id, parentId: root.record.id, ancestors: [root.record.id], name: 'grader', kind: 'secret', createdAt: NOW + 1,
      grant: { scopes: ['cells:run'], resource: null, origins: null, notBefore: null, expiresAt: NOW + 10_000, caps: { wallMs: 1_000 } },
    })
    expect(await store.getKeyByHash(hashKeySecret(child.secret))).toEqual(child.record)
  })

  it('are refused, naming the dimension, when they would widen anything; nothing is stored then', async () => {
    const root = await rootKey({ ...FULL, resource: { kind: 'content', prefix: '/course' }, expiresAt: NOW + 10_000, caps: { wallMs: 5_000 } })
    const asks = [
      [{ scopes: ['admin'] }, 'scopes'],
      [{ resource: { kind: 'content', prefix: '/other' } }, 'resource'],
      [{ resource: null }, 'resource'],
      [{ expiresAt: null }, 'window'],
      [{ expiresAt: NOW + 20_000 }, 'window'],
      [{ caps: { wallMs: 6_000 } }, 'caps'],
    ] as const
    for (const [request, dimension] of asks) {
      expect(await createSubKey(store, root.record, { name: 'wider', request }, NOW)).toMatchObject({ refusal: { dimension } })
    }
    expect(await store.listAccountKeys(account.id)).toEqual([root.record])
  })

  it('need a parent with keys:manage', async () => {
    const root = await rootKey()
    const runner = made(await createSubKey(store, root.record, { name: 'runner', request: { scopes: ['cells:run'] } }, NOW))
    expect(await createSubKey(store, runner.record, { name: 'x', request: { scopes: ['cells:run'] } }, NOW))
      .toEqual({ refusal: { dimension: 'scopes', message: 'the key does not have the scope keys:manage' } })
  })

  it('that are publishable must have origins and only cells:run and sessions:use', async () => {
    const root = await rootKey()
    const page = made(await createSubKey(store, root.record, {
      name: 'page', kind: 'publishable', request: { scopes: ['cells:run', 'sessions:use'], origins: ['https://course.example'] },
    }, NOW))
    expect(page.secret.startsWith('cg_pk_')).toBe(true)
    expect(page.record.grant.origins).toEqual(['https://course.example'])
    expect(await createSubKey(store, root.record, { name: 'x', kind: 'publishable', request: { scopes: ['cells:run'] } }, NOW))
      .toMatchObject({ refusal: { dimension: 'origins' } })
    expect(await createSubKey(store, root.record, { name: 'x', kind: 'publishable', request: { origins: ['https://course.example'] } }, NOW))
      .toMatchObject({ refusal: { dimension: 'scopes', message: expect.stringMatching(/keys:manage/) } })
  })

  it('made under a revoked parent are revoked at once and not handed out', async () => {
    const root = await rootKey()
    await store.revokeKeyTree(root.record.id, NOW)
    expect(await createSubKey(store, root.record, { name: 'late', request: {} }, NOW + 1)).toEqual({ parentRevoked: true })
    const keys = await store.listKeyTree(root.record.id)
    expect(keys).toHaveLength(2)
    expect(keys.every((k) => k.revokedAt !== null)).toBe(true)
  })
})

describe('revoking', () => {
  async function tree() {
    const root = await rootKey()
    const middle = made(await createSubKey(store, root.record, { name: 'middle', request: { scopes: ['keys:manage', 'cells:run'] } }, NOW))
    const leaf = made(await createSubKey(store, middle.record, { name: 'leaf', request: { scopes: ['cells:run'] } }, NOW))
    const sibling = made(await createSubKey(store, root.record, { name: 'sibling', request: {} }, NOW))
    return { root, middle, leaf, sibling }
  }

  it('a key three levels deep: revoking the middle refuses it and its child at once, not the root or a sibling', async () => {
    const { root, middle, leaf, sibling } = await tree()
    expect(await resolveKey(store, leaf.secret, NOW)).toMatchObject({ key: { id: leaf.record.id }, account: { id: account.id } })
    expect(await revokeKey(store, root.record, middle.record.id, NOW + 5)).toMatchObject({ revoked: 2, key: { id: middle.record.id } })
    expect(await resolveKey(store, middle.secret, NOW + 6)).toBeNull()
    expect(await resolveKey(store, leaf.secret, NOW + 6)).toBeNull()
    expect(await resolveKey(store, root.secret, NOW + 6)).not.toBeNull()
    expect(await resolveKey(store, sibling.secret, NOW + 6)).not.toBeNull()
  })

  it('is allowed to a key on itself and on its descendants only; others are not found and stay live', async () => {
    const { root, middle, leaf, sibling } = await tree()
    const stranger = sampleAccount()
    await store.insertAccount(stranger)
    const theirs = made(await createRootKey(store, stranger, { name: 'theirs', grant: FULL, kind: 'secret' }, NOW))
    expect(await revokeKey(store, middle.record, root.record.id, NOW)).toEqual({ notFound: true })
    expect(await revokeKey(store, middle.record, sibling.record.id, NOW)).toEqual({ notFound: true })
    expect(await revokeKey(store, middle.record, theirs.record.id, NOW)).toEqual({ notFound: true })
    expect(await revokeKey(store, middle.record, 'nosuchkey', NOW)).toEqual({ notFound: true })
    expect(await revokeKey(store, leaf.record, middle.record.id, NOW)).toEqual({ notFound: true })
    for (const k of [root, sibling, theirs, middle]) expect(await resolveKey(store, k.secret, NOW)).not.toBeNull()
    expect(await revokeKey(store, leaf.record, leaf.record.id, NOW)).toMatchObject({ revoked: 1 })
    expect(await revokeKey(store, leaf.record, leaf.record.id, NOW + 1)).toMatchObject({ revoked: 0 })
    expect((await store.getKey(leaf.record.id))?.revokedAt).toBe(NOW)
  })
})

describe('resolving a secret', () => {
  it('finds the live key and its account', async () => {
    const root = await rootKey()
    expect(await resolveKey(store, root.secret, NOW)).toEqual({ key: root.record, account })
  })

  it('finds nothing for a malformed or unknown secret', async () => {
    const root = await rootKey()
    for (const secret of ['', 'Bearer x', root.secret.slice(0, -1), `${root.secret}x`, root.secret.replace('cg_sk_', 'cg_pk_'), 'x'.repeat(100_000)]) {
      expect(await resolveKey(store, secret, NOW)).toBeNull()
    }
  })

  it('honours the validity window: from notBefore, until (not at) expiresAt', async () => {
    const key = await rootKey({ ...FULL, notBefore: NOW, expiresAt: NOW + 1_000 })
    expect(await resolveKey(store, key.secret, NOW - 1)).toBeNull()
    expect(await resolveKey(store, key.secret, NOW)).not.toBeNull()
    expect(await resolveKey(store, key.secret, NOW + 999)).not.toBeNull()
    expect(await resolveKey(store, key.secret, NOW + 1_000)).toBeNull()
  })

  it('finds nothing once the key is revoked or its account disabled', async () => {
    const a = await rootKey()
    const b = await rootKey()
    await store.revokeKeyTree(a.record.id, NOW)
    expect(await resolveKey(store, a.secret, NOW)).toBeNull()
    expect(await resolveKey(store, b.secret, NOW)).not.toBeNull()
    await store.disableAccount(account.id, NOW)
    expect(await resolveKey(store, b.secret, NOW)).toBeNull()
  })
})

/**
 * Makes children of fresh root keys on `creator` while `revoker` (another
 * instance over the same data) revokes each root after a varying number of
 * event-loop turns, and checks no child is left live.
 */
async function raceRevocation(creator: PrincipalStore, revoker: PrincipalStore, owner: AccountRecord): Promise<void> {
  const outcomes = { made: 0, parentRevoked: 0 }
  for (let delay = 0; delay < 12; delay++) {
    const parent = made(await createRootKey(creator, owner, { name: 'root', grant: FULL, kind: 'secret' }, NOW))
    const revoke = (async () => {
      for (let i = 0; i < delay; i++) await tick()
      await revoker.revokeKeyTree(parent.record.id, NOW + 1)
    })()
    const creations = await Promise.all(Array.from({ length: 4 }, (_, i) => createSubKey(creator, parent.record, { name: `child ${i}`, request: {} }, NOW + 2)))
    await revoke
    const live = (await creator.listKeyTree(parent.record.id)).filter((k: KeyRecord) => k.revokedAt === null)
    expect(live).toEqual([])
    // A creation that reported a key (it finished before the revocation) has it revoked now; the others were told.
    for (const c of creations) {
      if ('record' in c) expect(await resolveKey(creator, c.secret, NOW + 3)).toBeNull()
      else expect(c).toEqual({ parentRevoked: true })
      outcomes['record' in c ? 'made' : 'parentRevoked'] += 1
    }
  }
  // The revocation fell both before and after some creations finished, so both paths were taken.
  expect(outcomes.made).toBeGreaterThan(0)
  expect(outcomes.parentRevoked).toBeGreaterThan(0)
}

describe('a sub-key made while its parent is revoked on another instance', () => {
  it('is never left live on SQLite, wherever the revocation falls', async () => {
    // A second store over the same file, as a second web instance would have.
    const other = new SqliteStore(tmp.dir)
    await other.open()
    try {
      await raceRevocation(store, other, account)
    } finally {
      await other.close()
    }
  })
})

describeWith(mongoMissing, 'a sub-key made while its parent is revoked on another MongoDB instance', () => {
  let mongo: TestMongo
  beforeAll(async () => {
    mongo = await startTestMongo()
  })
  afterAll(async () => {
    await mongo?.close()
  })

  it('is never left live, wherever the revocation falls', async () => {
    const options = { uri: mongo.uri, dbName: mongo.newDbName() }
    const [a, b] = [new MongoStore(options), new MongoStore(options)]
    await Promise.all([a.open(), b.open()])
    try {
      await a.insertAccount(account)
      await raceRevocation(a, b, account)
      if (mongo.kind === 'external') await a.client.db(options.dbName).dropDatabase()
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
