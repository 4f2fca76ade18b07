/**
 * The part of the store port (port.ts) that holds principals: accounts,
 * their keys and the audit log. Both adapters implement it and the shared
 * contract (test/support/contracts/principal-store.ts) holds them to it.
 *
 * Uniqueness is the store's: a login name, an OpenID Connect identity and a
 * key's secret hash each have a unique index, so two creations racing on
 * several web instances cannot both win (no check-then-insert). Revoking a
 * key tree is one statement (SQLite) or one updateMany (MongoDB), so every
 * web instance sees the whole subtree revoked from the same moment.
 */
import type { Grant } from '../principals/rights.ts'

export type AccountRole = 'admin' | 'user'

/** An OpenID Connect identity: the provider and its stable id of the person. */
export interface OidcIdentity {
  issuer: string
  subject: string
}

export interface AccountRecord {
  id: string
  /** The login name, unique. */
  name: string
  role: AccountRole
  /** The quality-of-service tier (`default` until tiers exist). */
  tier: string
  /** An encoded scrypt hash (password.ts); null for an account that cannot log in with a password. */
  passwordHash: string | null
  /** Unique among accounts when set. */
  oidc: OidcIdentity | null
  /** Epoch milliseconds. */
  createdAt: number
  disabledAt: number | null
}

/** `login` is the key behind a web login's cookie; the others are handed to programs and pages. */
export type KeyKind = 'secret' | 'publishable' | 'login'

export interface KeyRecord {
  id: string
  accountId: string
  /** The key it was made from; null for a root key of its account. */
  parentId: string | null
  /** Every key above it, root first, parent last: a subtree is found (and revoked) by one indexed query. */
  ancestors: string[]
  name: string
  kind: KeyKind
  /** The first characters of the secret, to tell keys apart in lists (key-secret.ts). */
  prefix: string
  /** SHA-256 hex of the secret; unique and indexed. The secret itself is never stored. */
  secretHash: string
  grant: Grant
  /** Epoch milliseconds. */
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

/** What an audit record's detail may hold: flat values only, so every store keeps it as given. */
export type AuditDetail = Record<string, string | number | boolean | null>

export interface AuditRecord {
  id: string
  /** Epoch milliseconds. */
  at: number
  /** `key.created`, `key.revoked`, `login`, `login.failed`, `account.created`, `account.disabled`, `admin.…` */
  action: string
  accountId: string | null
  keyId: string | null
  /** The client's IP address. */
  client: string
  detail: AuditDetail
}

/** Where a page of the audit log starts: strictly older than this record (its `at` and `id`). */
export interface AuditCursor {
  at: number
  id: string
}

export interface PrincipalStore {
  /** Stores a new account; false, storing nothing, when its name or its OIDC identity is taken. */
  insertAccount(account: AccountRecord): Promise<boolean>
  getAccount(id: string): Promise<AccountRecord | null>
  getAccountByName(name: string): Promise<AccountRecord | null>
  getAccountByOidc(issuer: string, subject: string): Promise<AccountRecord | null>
  /** Sets disabledAt; false when there is no such account or it was disabled before (the first time stays). */
  disableAccount(id: string, now: number): Promise<boolean>
  /** Replaces the password hash (null: no password login); false when there is no such account. */
  setAccountPassword(id: string, passwordHash: string | null): Promise<boolean>
  /** Accounts not disabled, of one role or all: "is there an admin yet" at first start. */
  countAccounts(role?: AccountRole): Promise<number>
  /** Accounts in id order, at most `limit`, after `afterId` when given (the last id of the page before). */
  listAccounts(limit: number, afterId?: string): Promise<AccountRecord[]>

  /** Stores a new key; rejects when its id or secret hash is taken (with 256-bit secrets, only by a bug). */
  insertKey(key: KeyRecord): Promise<void>
  getKey(id: string): Promise<KeyRecord | null>
  /** The key whose secret has this hash (indexed): the lookup behind every request with a key. Revoked keys too. */
  getKeyByHash(secretHash: string): Promise<KeyRecord | null>
  /**
   * Revokes the key and every key below it at once (one UPDATE on SQLite,
   * one updateMany on MongoDB, repeated there for sub-keys stored while it
   * ran); keys revoked before keep their first revokedAt. Returns how many
   * were newly revoked (0 for an unknown id).
   */
  revokeKeyTree(id: string, now: number): Promise<number>
  /** The key and all its descendants in treeOrder (a parent before its children); [] for an unknown id. */
  listKeyTree(id: string): Promise<KeyRecord[]>
  /** Every key of the account, revoked ones too, oldest first. */
  listAccountKeys(accountId: string): Promise<KeyRecord[]>
  /** Sets lastUsedAt; callers throttle it (it is a write per call). */
  touchKey(id: string, now: number): Promise<void>

  appendAudit(record: AuditRecord): Promise<void>
  /** Newest first (at, then id, descending), at most `limit`, strictly older than `before` when given. */
  listAudit(query: { before?: AuditCursor; limit: number }): Promise<AuditRecord[]>
}

/**
 * The order of listKeyTree: shallower keys first, so a parent always comes
 * before its children (even if clocks of two web instances disagree on
 * their createdAt), then oldest first, then by id.
 *
 * @example
 *   keys.sort(treeOrder) // root, its children, their children…
 */
export function treeOrder(a: KeyRecord, b: KeyRecord): number {
  return a.ancestors.length - b.ancestors.length || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
