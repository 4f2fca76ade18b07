/**
 * The promises of the principal half of the store port (principals-port.ts)
 * and of owners on jobs, sessions and notebooks, as tests registered inside
 * runStoreContract (store.ts), so every adapter runs them on a fresh store.
 */
import { describe, expect, it } from 'vitest'
import type { AuditRecord, KeyRecord, Store } from '../../../server/store/port.ts'
import { sampleAccount, sampleAudit, sampleJob, sampleKey, sampleNotebook, sampleSession } from './samples.ts'

/**
 * @example
 *   runPrincipalContract(() => store) // inside a describe whose beforeEach opens `store`
 */
export function runPrincipalContract(current: () => Store): void {
  describe('accounts', () => {
    it('returns an account by id, by name and by OIDC identity as it was given; null when unknown', async () => {
      const store = current()
      const withOidc = sampleAccount({ role: 'admin', passwordHash: 'scrypt$32768$8$1$c2FsdA$aGFzaA', oidc: { issuer: 'https://id.example', subject: 'u-1' } })
      const plain = sampleAccount()
      expect(await store.insertAccount(withOidc)).toBe(true)
      expect(await store.insertAccount(plain)).toBe(true)
      expect(await store.getAccount(withOidc.id)).toEqual(withOidc)
      expect(await store.getAccountByName(plain.name)).toEqual(plain)
      expect(await store.getAccountByOidc('https://id.example', 'u-1')).toEqual(withOidc)
      expect(await store.getAccount('nosuchaccount')).toBeNull()
      expect(await store.getAccountByName('nosuchname')).toBeNull()
      expect(await store.getAccountByOidc('https://id.example', 'u-2')).toBeNull()
      expect(await store.getAccountByOidc('https://other.example', 'u-1')).toBeNull()
    })

    it('refuses a taken name or OIDC identity without throwing, and stores nothing then', async () => {
      const store = current()
      const first = sampleAccount({ oidc: { issuer: 'https://id.example', subject: 'same' } })
      expect(await store.insertAccount(first)).toBe(true)
      const sameName = sampleAccount({ name: first.name })
      const sameIdentity = sampleAccount({ oidc: { issuer: 'https://id.example', subject: 'same' } })
      expect(await store.insertAccount(sameName)).toBe(false)
      expect(await store.insertAccount(sameIdentity)).toBe(false)
      expect(await store.getAccount(sameName.id)).toBeNull()
      expect(await store.getAccount(sameIdentity.id)).toBeNull()
      // The same subject at another issuer is another person; accounts without an identity never collide.
      expect(await store.insertAccount(sampleAccount({ oidc: { issuer: 'https://other.example', subject: 'same' } }))).toBe(true)
      expect(await store.insertAccount(sampleAccount())).toBe(true)
      expect(await store.insertAccount(sampleAccount())).toBe(true)
      expect(await store.getAccountByName(first.name)).toEqual(first)
    })

    it('lets exactly one of several creations racing on a name win', async () => {
      const store = current()
      const racing = Array.from({ length: 5 }, () => sampleAccount({ name: 'racer' }))
      const created = await Promise.all(racing.map((a) => store.insertAccount(a)))
      expect(created.filter(Boolean)).toHaveLength(1)
      expect((await store.getAccountByName('racer'))?.id).toBe(racing[created.indexOf(true)]!.id)
    })

    it('disables an account once (the first time stays) and counts only accounts not disabled, by role', async () => {
      const store = current()
      const admin = sampleAccount({ role: 'admin' })
      const users = [sampleAccount(), sampleAccount()]
      for (const a of [admin, ...users]) await store.insertAccount(a)
      expect(await store.countAccounts()).toBe(3)
      expect(await store.countAccounts('admin')).toBe(1)
      expect(await store.countAccounts('user')).toBe(2)
      expect(await store.disableAccount(admin.id, 5_000)).toBe(true)
      expect(await store.disableAccount(admin.id, 6_000)).toBe(false)
      expect(await store.disableAccount('nosuchaccount', 6_000)).toBe(false)
      expect(await store.getAccount(admin.id)).toEqual({ ...admin, disabledAt: 5_000 })
      expect(await store.countAccounts('admin')).toBe(0)
      expect(await store.countAccounts()).toBe(2)
    })

    it('replaces or removes a password hash; false for an unknown account', async () => {
      const store = current()
      const account = sampleAccount()
      await store.insertAccount(account)
      expect(await store.setAccountPassword(account.id, 'scrypt$new')).toBe(true)
      expect((await store.getAccount(account.id))?.passwordHash).toBe('scrypt$new')
      expect(await store.setAccountPassword(account.id, null)).toBe(true)
      expect(await store.getAccount(account.id)).toEqual(account)
      expect(await store.setAccountPassword('nosuchaccount', 'x')).toBe(false)
    })

    it('lists accounts in id order, page by page, each once', async () => {
      const store = current()
      const accounts = Array.from({ length: 12 }, () => sampleAccount())
      for (const a of [...accounts].reverse()) await store.insertAccount(a)
      const seen: string[] = []
      for (let page = await store.listAccounts(5); page.length > 0; page = await store.listAccounts(5, seen.at(-1))) {
        expect(page.length).toBeLessThanOrEqual(5)
        seen.push(...page.map((a) => a.id))
      }
      expect(seen).toEqual(accounts.map((a) => a.id).sort())
      expect((await store.listAccounts(1))[0]).toEqual(accounts.find((a) => a.id === seen[0]))
    })
  })

  describe('keys', () => {
    /** An account with a root, two children of the root and a grandchild under the first child. */
    async function tree(store: Store) {
      const account = sampleAccount()
      await store.insertAccount(account)
      const root = sampleKey(account)
      const middle = sampleKey(account, root)
      const sibling = sampleKey(account, root)
      const leaf = sampleKey(account, middle)
      for (const k of [root, middle, sibling, leaf]) await store.insertKey(k)
      return { account, root, middle, sibling, leaf }
    }

    it('returns a key by id and by secret hash as it was given, grant and all; null when unknown', async () => {
      const store = current()
      const account = sampleAccount()
      const key = sampleKey(account, undefined, {
        kind: 'publishable',
        grant: {
          scopes: ['cells:run'], resource: { kind: 'content', prefix: '/course/week.1/$x' }, origins: ['https://a.example', 'http://b.example:8080'],
          notBefore: 1_000, expiresAt: 9_000, caps: { wallMs: 2_000, memoryMb: 32 },
        },
        lastUsedAt: 1_500,
      })
      await store.insertKey(key)
      expect(await store.getKey(key.id)).toEqual(key)
      expect(await store.getKeyByHash(key.secretHash)).toEqual(key)
      expect(await store.getKey('nosuchkey')).toBeNull()
      expect(await store.getKeyByHash('0'.repeat(64))).toBeNull()
    })

    it('refuses a second key with the same secret hash', async () => {
      const store = current()
      const account = sampleAccount()
      const key = sampleKey(account)
      await store.insertKey(key)
      const twin = sampleKey(account, undefined, { secretHash: key.secretHash })
      await expect(store.insertKey(twin)).rejects.toThrow()
      expect(await store.getKey(twin.id)).toBeNull()
      expect(await store.getKeyByHash(key.secretHash)).toEqual(key)
    })

    it('revokes a middle key with its subtree at once, not its parent or siblings; a lookup by hash then shows revokedAt', async () => {
      const store = current()
      const { root, middle, sibling, leaf } = await tree(store)
      expect(await store.revokeKeyTree(middle.id, 7_000)).toBe(2)
      expect(await store.getKeyByHash(middle.secretHash)).toEqual({ ...middle, revokedAt: 7_000 })
      expect((await store.getKeyByHash(leaf.secretHash))?.revokedAt).toBe(7_000)
      expect((await store.getKeyByHash(root.secretHash))?.revokedAt).toBeNull()
      expect((await store.getKeyByHash(sibling.secretHash))?.revokedAt).toBeNull()
    })

    it('keeps the first revokedAt of keys revoked before, and counts only keys newly revoked', async () => {
      const store = current()
      const { root, middle, sibling, leaf } = await tree(store)
      expect(await store.revokeKeyTree(leaf.id, 1_000)).toBe(1)
      expect(await store.revokeKeyTree(leaf.id, 1_500)).toBe(0)
      expect(await store.revokeKeyTree(root.id, 2_000)).toBe(3)
      expect(await store.revokeKeyTree(root.id, 3_000)).toBe(0)
      expect(await store.revokeKeyTree('nosuchkey', 3_000)).toBe(0)
      const revokedAt = await Promise.all([root, middle, sibling, leaf].map(async (k) => (await store.getKey(k.id))?.revokedAt))
      expect(revokedAt).toEqual([2_000, 2_000, 2_000, 1_000])
    })

    it('lists a key with all its descendants, parents before children, and nothing outside the tree', async () => {
      const store = current()
      const { account, root, middle, sibling, leaf } = await tree(store)
      // A child whose clock ran behind its parent's still comes after it.
      const late = sampleKey(account, leaf, { createdAt: root.createdAt - 10 })
      await store.insertKey(late)
      const other = await tree(store)
      const ids = (keys: KeyRecord[]) => keys.map((k) => k.id)
      expect(ids(await store.listKeyTree(middle.id))).toEqual([middle.id, leaf.id, late.id])
      const all = await store.listKeyTree(root.id)
      expect(ids(all)).toHaveLength(5)
      expect(new Set(ids(all))).toEqual(new Set([root.id, middle.id, sibling.id, leaf.id, late.id]))
      for (const [i, key] of all.entries()) for (const ancestor of key.ancestors) expect(ids(all).indexOf(ancestor)).toBeLessThan(i)
      expect(all[0]).toEqual(root)
      expect(ids(await store.listKeyTree(sibling.id))).toEqual([sibling.id])
      expect(ids(await store.listKeyTree(other.root.id))).not.toContain(root.id)
      expect(await store.listKeyTree('nosuchkey')).toEqual([])
    })

    it('lists every key of an account, revoked ones too, oldest first', async () => {
      const store = current()
      const { account, root, middle, sibling, leaf } = await tree(store)
      await tree(store)
      await store.revokeKeyTree(middle.id, 5)
      const keys = await store.listAccountKeys(account.id)
      expect(keys.map((k) => k.id)).toEqual([root.id, middle.id, sibling.id, leaf.id])
      expect(keys.filter((k) => k.revokedAt !== null).map((k) => k.id)).toEqual([middle.id, leaf.id])
      expect(await store.listAccountKeys('nosuchaccount')).toEqual([])
    })

    it('records when a key was last used', async () => {
      const store = current()
      const { root, middle } = await tree(store)
      await store.touchKey(middle.id, 4_000)
      await store.touchKey(middle.id, 4_500)
      await store.touchKey('nosuchkey', 4_500)
      expect(await store.getKeyByHash(middle.secretHash)).toEqual({ ...middle, lastUsedAt: 4_500 })
      expect(await store.getKey(root.id)).toEqual(root)
    })
  })

  describe('audit', () => {
    it('keeps records as given and lists them newest first, ties in id order descending', async () => {
      const store = current()
      const a = sampleAudit({ at: 1_000, action: 'key.created', accountId: 'acc1', keyId: 'key1', detail: { name: 'ci', scopes: 'cells:run', n: 2, ok: true, none: null, 'a.b': 'x' } })
      const b = sampleAudit({ at: 2_000, action: 'login.failed', client: '::1', detail: { name: 'mallory' } })
      const c = sampleAudit({ at: 2_000, action: 'account.disabled' })
      for (const r of [b, a, c]) await store.appendAudit(r)
      const tied = [b, c].sort((x, y) => (x.id < y.id ? 1 : -1))
      expect(await store.listAudit({ limit: 10 })).toEqual([...tied, a])
      expect(await store.listAudit({ limit: 1 })).toEqual([tied[0]])
    })

    it('pages through the whole log with a cursor, every record once, in order', async () => {
      const store = current()
      // Many records share a time, so the order within one millisecond matters to paging.
      const records = Array.from({ length: 23 }, (_, i) => sampleAudit({ at: 10_000 + Math.floor(i / 4) }))
      for (const r of records) await store.appendAudit(r)
      const pages: AuditRecord[][] = []
      for (let page = await store.listAudit({ limit: 5 }); page.length > 0;) {
        pages.push(page)
        const last = page.at(-1)!
        page = await store.listAudit({ before: { at: last.at, id: last.id }, limit: 5 })
      }
      const seen = pages.flat()
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3])
      expect(new Set(seen.map((r) => r.id)).size).toBe(23)
      const expected = [...records].sort((x, y) => y.at - x.at || (x.id < y.id ? 1 : -1))
      expect(seen).toEqual(expected)
    })
  })

  describe('owners', () => {
    it('keeps the key and privacy of a job, and lists an owner\'s jobs newest first', async () => {
      const store = current()
      const mine = Array.from({ length: 4 }, () => sampleJob({ owner: 'acc-me', keyId: 'key-me' }))
      const secret = sampleJob({ owner: 'acc-me', keyId: 'key-other', private: true })
      const theirs = sampleJob({ owner: 'acc-them' })
      for (const job of [secret, ...mine, theirs]) await store.insertJob(job)
      expect(await store.getJob(secret.id)).toEqual(secret)
      const newestFirst = [...mine, secret].sort((x, y) => y.createdAt - x.createdAt)
      expect(await store.listJobsByOwner('acc-me', 10)).toEqual(newestFirst)
      expect((await store.listJobsByOwner('acc-me', 2)).map((j) => j.id)).toEqual(newestFirst.slice(0, 2).map((j) => j.id))
      expect(await store.listJobsByOwner('acc-them', 10)).toEqual([theirs])
      expect(await store.listJobsByOwner('acc-nobody', 10)).toEqual([])
    })

    it('keeps the owner and key of a session', async () => {
      const store = current()
      const session = sampleSession({ owner: 'acc-me', keyId: 'key-me' })
      await store.insertSession(session, 5)
      expect(await store.getSession(session.id)).toEqual(session)
      expect(await store.useSession(session.id, session.lastUsedAt + 1)).toMatchObject({ owner: 'acc-me', keyId: 'key-me', cells: 1 })
    })

    it('keeps the owner and key of a notebook across saves, and lists an owner\'s notebooks most recently updated first', async () => {
      const store = current()
      const mine = () => sampleNotebook({ owner: 'acc-me', keyId: 'key-me' })
      const [a, b, c] = [mine(), mine(), mine()]
      const theirs = sampleNotebook({ owner: 'acc-them' })
      for (const n of [a, b, c, theirs]) await store.saveNotebook(n)
      expect(await store.getNotebook(a.id)).toEqual(a)
      const resaved = { ...a, title: 'again', updatedAt: c.updatedAt + 10 }
      await store.saveNotebook(resaved)
      expect(await store.listNotebooksByOwner('acc-me', 10)).toEqual([resaved, c, b])
      expect((await store.listNotebooksByOwner('acc-me', 1)).map((n) => n.id)).toEqual([a.id])
      expect(await store.listNotebooksByOwner('acc-them', 10)).toEqual([theirs])
      expect(await store.listNotebooksByOwner('acc-nobody', 10)).toEqual([])
    })

    it('lists every notebook in id order, page by page, each once', async () => {
      const store = current()
      const all = Array.from({ length: 7 }, (_, i) => sampleNotebook({ owner: i % 2 ? 'acc-me' : 'anonymous' }))
      for (const n of all) await store.saveNotebook(n)
      const seen: string[] = []
      for (let page = await store.listNotebooks(3); page.length > 0; page = await store.listNotebooks(3, page.at(-1)!.id)) {
        expect(page.length).toBeLessThanOrEqual(3)
        seen.push(...page.map((n) => n.id))
      }
      expect(seen).toEqual(all.map((n) => n.id).sort())
      expect(await store.listNotebooks(10, seen.at(-1))).toEqual([])
    })
  })
}
