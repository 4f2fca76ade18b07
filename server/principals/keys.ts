/**
 * The key service: makes root keys and sub-keys, revokes key trees and
 * resolves a presented secret to its live key, over the store port and
 * nothing else (no HTTP; the auth middleware and the CLI call it). The first
 * argument after the store is who acts: the account a root key is made for,
 * or the key a request was made with.
 *
 * Rights only narrow: a sub-key's grant is narrow(parent, request) from
 * rights.ts, refused with the dimension that would widen. A parent may be
 * revoked while its child is being made (on another web instance, say), so
 * createSubKey reads the parent again after inserting the child and revokes
 * the child if the parent is gone: no live child of a revoked key survives.
 * On SQLite statements run one at a time, so either the revocation saw the
 * child or the re-read sees the revocation. On MongoDB one updateMany does
 * not see every document inserted while it runs, so the adapter repeats it
 * until it revokes nothing more (mongo-principals.ts); a request still
 * costs two reads, the key and its account, and never its ancestors.
 *
 * Audit records are the caller's to append: they carry the client's
 * address, which this service does not know.
 */
import { newRecordId } from '../ids.ts'
import type { AccountRecord, KeyRecord, PrincipalStore } from '../store/principals-port.ts'
import { hashKeySecret, looksLikeKeySecret, newKeySecret, type NewKeySecret } from './key-secret.ts'
import { narrow, type Grant, type GrantRequest, type Refusal, type Scope } from './rights.ts'

/** What a publishable key (one a page embeds, so anyone can read it) may hold: running cells and sessions. */
export const PUBLISHABLE_SCOPES: readonly Scope[] = ['cells:run', 'sessions:use']

/** A new key, and its secret: shown to its holder once, never stored. */
export interface MadeKey {
  record: KeyRecord
  secret: string
}

export type KeyCreation = MadeKey | { refusal: Refusal }

/** A sub-key's creation: as KeyCreation, or its parent was revoked meanwhile (the child was revoked too). */
export type SubKeyCreation = KeyCreation | { parentRevoked: true }

type Store = Pick<PrincipalStore, 'insertKey' | 'getKey' | 'getKeyByHash' | 'revokeKeyTree' | 'getAccount'>

/**
 * A key at the root of an account's tree (the CLI's `keys create`, a
 * bootstrap key, the key behind a web login).
 *
 * @example
 *   const made = await createRootKey(store, account, { name: 'ci', grant, kind: 'secret' })
 *   if ('refusal' in made) throw new Error(made.refusal.message)
 *   console.log(made.secret) // cg_sk_…, once
 */
export async function createRootKey(
  store: Store, account: Pick<AccountRecord, 'id'>, { name, grant, kind, secret }: { name: string; grant: Grant; kind: KeyRecord['kind']; secret?: NewKeySecret }, now = Date.now(),
): Promise<KeyCreation> {
  const refusal = kind === 'publishable' ? publishableRefusal(grant) : null
  if (refusal) return { refusal }
  return insert(store, { accountId: account.id, parentId: null, ancestors: [], name, kind, grant }, now, secret)
}

/**
 * A child of `parentKey` (a key resolveKey returned for this request) with
 * the rights requested, which must be within the parent's; the parent needs
 * `keys:manage`. `kind` is `secret` unless asked.
 *
 * @example
 *   const made = await createSubKey(store, key, { name: 'grader', request: { scopes: ['cells:run'], expiresAt } }, Date.now())
 *   // { record, secret } | { refusal: { dimension: 'scopes', message } } | { parentRevoked: true }
 */
export async function createSubKey(
  store: Store, parentKey: KeyRecord, { name, kind = 'secret', request }: { name: string; kind?: 'secret' | 'publishable'; request: GrantRequest },
  now: number,
): Promise<SubKeyCreation> {
  if (!parentKey.grant.scopes.includes('keys:manage')) return { refusal: { dimension: 'scopes', message: 'the key does not have the scope keys:manage' } }
  const narrowed = narrow(parentKey.grant, request)
  if ('refusal' in narrowed) return narrowed
  const refusal = kind === 'publishable' ? publishableRefusal(narrowed.grant) : null
  if (refusal) return { refusal }
  const made = await insert(store, {
    accountId: parentKey.accountId, parentId: parentKey.id, ancestors: [...parentKey.ancestors, parentKey.id], name, kind, grant: narrowed.grant,
  }, now)
  // Revoking the parent's tree may have run before the child was stored, and missed it.
  const parent = await store.getKey(parentKey.id)
  if (parent === null || parent.revokedAt !== null) {
    await store.revokeKeyTree(made.record.id, parent?.revokedAt ?? now)
    return { parentRevoked: true }
  }
  return made
}

/**
 * Revokes key `id` and its subtree, if `actorKey` is that key or one of its
 * ancestors; any other key is `notFound`, so a caller learns nothing of keys
 * outside its own tree. Revoking a key already revoked is no error
 * (`revoked: 0`).
 *
 * @example
 *   await revokeKey(store, key, childId, Date.now()) // { revoked: 3, key: child } or { notFound: true }
 */
export async function revokeKey(store: Store, actorKey: KeyRecord, id: string, now: number): Promise<{ revoked: number; key: KeyRecord } | { notFound: true }> {
  const key = id === actorKey.id ? actorKey : await store.getKey(id)
  if (key === null || (key.id !== actorKey.id && !key.ancestors.includes(actorKey.id))) return { notFound: true }
  return { revoked: await store.revokeKeyTree(id, now), key }
}

/**
 * The live key a presented secret belongs to, with its account; null when
 * the secret has not the shape of one, is unknown, revoked, outside its
 * validity window, or its account is disabled (or gone). Two indexed reads.
 *
 * @example
 *   const found = await resolveKey(store, bearer, Date.now())
 *   if (!found) return unauthenticated()
 *   found.key.grant // what the request may do, decided by can()
 */
export async function resolveKey(store: Store, secret: string, now: number): Promise<{ key: KeyRecord; account: AccountRecord } | null> {
  if (!looksLikeKeySecret(secret)) return null
  const key = await store.getKeyByHash(hashKeySecret(secret))
  if (key === null || key.revokedAt !== null) return null
  const { notBefore, expiresAt } = key.grant
  if ((notBefore !== null && now < notBefore) || (expiresAt !== null && now >= expiresAt)) return null
  const account = await store.getAccount(key.accountId)
  if (account === null || account.disabledAt !== null) return null
  return { key, account }
}

/** Why a grant cannot be a publishable key's, or null when it can. */
function publishableRefusal(grant: Grant): Refusal | null {
  const extra = grant.scopes.find((scope) => !PUBLISHABLE_SCOPES.includes(scope))
  if (extra !== undefined) return { dimension: 'scopes', message: `a publishable key may have only the scopes ${PUBLISHABLE_SCOPES.join(', ')}, not ${extra}` }
  if (grant.origins === null || grant.origins.length === 0) {
    return { dimension: 'origins', message: 'a publishable key must name the page origins it may be used from' }
  }
  return null
}

async function insert(
  store: Store, fields: Pick<KeyRecord, 'accountId' | 'parentId' | 'ancestors' | 'name' | 'kind' | 'grant'>, now: number,
  // A login key's secret travels in a cookie but is a secret key like any other.
  { secret, hash, prefix }: NewKeySecret = newKeySecret(fields.kind === 'publishable' ? 'publishable' : 'secret'),
): Promise<MadeKey> {
  const record: KeyRecord = { id: newRecordId(), ...fields, prefix, secretHash: hash, createdAt: now, lastUsedAt: null, revokedAt: null }
  await store.insertKey(record)
  return { record, secret }
}
