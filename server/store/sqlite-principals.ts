/**
 * Accounts, keys and the audit log in the embedded SQLite store (the
 * PrincipalStore half of sqlite.ts). Uniqueness is left to the indexes
 * (`ON CONFLICT DO NOTHING` tells a taken name from a new one without a
 * check-then-insert). A key's ancestors are kept twice: as JSON on the key,
 * to read back in order, and as rows of `key_ancestors` (ancestor, key), the
 * index that finds a subtree, so revoking one is a single UPDATE.
 */
import type Database from 'better-sqlite3'
import type { AccountRecord, AccountRole, AuditCursor, AuditRecord, KeyRecord, PrincipalStore } from './principals-port.ts'
import { treeOrder } from './principals-port.ts'

export const PRINCIPAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  tier TEXT NOT NULL,
  password_hash TEXT,
  oidc_issuer TEXT,
  oidc_subject TEXT,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
);
-- NULLs are distinct in a unique index: only accounts with an OIDC identity compete.
CREATE UNIQUE INDEX IF NOT EXISTS accounts_by_oidc ON accounts (oidc_issuer, oidc_subject);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  parent_id TEXT,
  ancestors TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  prefix TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  grant_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys (account_id, created_at);
CREATE TABLE IF NOT EXISTS key_ancestors (
  ancestor_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  PRIMARY KEY (ancestor_id, key_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  account_id TEXT,
  key_id TEXT,
  client TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at, id);
`

interface AccountRow {
  id: string
  name: string
  role: AccountRole
  tier: string
  password_hash: string | null
  oidc_issuer: string | null
  oidc_subject: string | null
  created_at: number
  disabled_at: number | null
}

interface KeyRow {
  id: string
  account_id: string
  parent_id: string | null
  ancestors: string
  name: string
  kind: KeyRecord['kind']
  prefix: string
  secret_hash: string
  grant_json: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

interface AuditRow {
  id: string
  at: number
  action: string
  account_id: string | null
  key_id: string | null
  client: string
  detail: string
}

/** The subtree of a key: the key itself and every key that names it among its ancestors. */
const SUBTREE = 'id = @id OR id IN (SELECT key_id FROM key_ancestors WHERE ancestor_id = @id)'

/**
 * @example
 *   db.exec(PRINCIPAL_SCHEMA)
 *   const principals = new SqlitePrincipals(db)
 *   await principals.insertAccount(account) // false when the name is taken
 */
export class SqlitePrincipals implements PrincipalStore {
  private readonly sql: ReturnType<typeof prepare>

  constructor(db: Database.Database) {
    this.sql = prepare(db)
  }

  async insertAccount(a: AccountRecord): Promise<boolean> {
    return this.sql.insertAccount.run({
      id: a.id, name: a.name, role: a.role, tier: a.tier, password_hash: a.passwordHash, oidc_issuer: a.oidc?.issuer ?? null,
      oidc_subject: a.oidc?.subject ?? null, created_at: a.createdAt, disabled_at: a.disabledAt,
    }).changes === 1
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    return fromAccountRow(this.sql.getAccount.get(id) as AccountRow | undefined)
  }

  async getAccountByName(name: string): Promise<AccountRecord | null> {
    return fromAccountRow(this.sql.getAccountByName.get(name) as AccountRow | undefined)
  }

  async getAccountByOidc(issuer: string, subject: string): Promise<AccountRecord | null> {
    return fromAccountRow(this.sql.getAccountByOidc.get(issuer, subject) as AccountRow | undefined)
  }

  async disableAccount(id: string, now: number): Promise<boolean> {
    return this.sql.disableAccount.run(now, id).changes === 1
  }

  async setAccountPassword(id: string, passwordHash: string | null): Promise<boolean> {
    return this.sql.setAccountPassword.run(passwordHash, id).changes === 1
  }

  async countAccounts(role?: AccountRole): Promise<number> {
    return this.sql.countAccounts.get({ role: role ?? null }) as number
  }

  async listAccounts(limit: number, afterId = ''): Promise<AccountRecord[]> {
    return (this.sql.listAccounts.all(afterId, limit) as AccountRow[]).map((row) => fromAccountRow(row)!)
  }

  async insertKey(k: KeyRecord): Promise<void> {
    this.sql.insertKey({
      id: k.id, account_id: k.accountId, parent_id: k.parentId, ancestors: JSON.stringify(k.ancestors), name: k.name, kind: k.kind,
      prefix: k.prefix, secret_hash: k.secretHash, grant_json: JSON.stringify(k.grant), created_at: k.createdAt,
      last_used_at: k.lastUsedAt, revoked_at: k.revokedAt,
    }, k.ancestors)
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    return fromKeyRow(this.sql.getKey.get(id) as KeyRow | undefined)
  }

  async getKeyByHash(secretHash: string): Promise<KeyRecord | null> {
    return fromKeyRow(this.sql.getKeyByHash.get(secretHash) as KeyRow | undefined)
  }

  async revokeKeyTree(id: string, now: number): Promise<number> {
    return this.sql.revokeKeyTree.run({ id, now }).changes
  }

  async listKeyTree(id: string): Promise<KeyRecord[]> {
    return (this.sql.listKeyTree.all({ id }) as KeyRow[]).map((row) => fromKeyRow(row)!).sort(treeOrder)
  }

  async listAccountKeys(accountId: string): Promise<KeyRecord[]> {
    return (this.sql.listAccountKeys.all(accountId) as KeyRow[]).map((row) => fromKeyRow(row)!)
  }

  async touchKey(id: string, now: number): Promise<void> {
    this.sql.touchKey.run(now, id)
  }

  async appendAudit(r: AuditRecord): Promise<void> {
    this.sql.appendAudit.run({
      id: r.id, at: r.at, action: r.action, account_id: r.accountId, key_id: r.keyId, client: r.client, detail: JSON.stringify(r.detail),
    })
  }

  async listAudit({ before, limit }: { before?: AuditCursor; limit: number }): Promise<AuditRecord[]> {
    const rows = (before ? this.sql.listAuditBefore.all(before.at, before.id, limit) : this.sql.listAudit.all(limit)) as AuditRow[]
    return rows.map((row) => ({
      id: row.id, at: row.at, action: row.action, accountId: row.account_id, keyId: row.key_id, client: row.client, detail: JSON.parse(row.detail),
    }))
  }
}

function prepare(db: Database.Database) {
  const insertKeyRow = db.prepare(`INSERT INTO api_keys
    (id, account_id, parent_id, ancestors, name, kind, prefix, secret_hash, grant_json, created_at, last_used_at, revoked_at)
    VALUES (@id, @account_id, @parent_id, @ancestors, @name, @kind, @prefix, @secret_hash, @grant_json, @created_at, @last_used_at, @revoked_at)`)
  const insertAncestor = db.prepare('INSERT INTO key_ancestors (ancestor_id, key_id) VALUES (?, ?)')
  return {
    insertAccount: db.prepare(`INSERT INTO accounts (id, name, role, tier, password_hash, oidc_issuer, oidc_subject, created_at, disabled_at)
      VALUES (@id, @name, @role, @tier, @password_hash, @oidc_issuer, @oidc_subject, @created_at, @disabled_at) ON CONFLICT DO NOTHING`),
    getAccount: db.prepare('SELECT * FROM accounts WHERE id = ?'),
    getAccountByName: db.prepare('SELECT * FROM accounts WHERE name = ?'),
    getAccountByOidc: db.prepare('SELECT * FROM accounts WHERE oidc_issuer = ? AND oidc_subject = ?'),
    disableAccount: db.prepare('UPDATE accounts SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL'),
    setAccountPassword: db.prepare('UPDATE accounts SET password_hash = ? WHERE id = ?'),
    countAccounts: db.prepare('SELECT count(*) FROM accounts WHERE disabled_at IS NULL AND (@role IS NULL OR role = @role)').pluck(),
    listAccounts: db.prepare('SELECT * FROM accounts WHERE id > ? ORDER BY id LIMIT ?'),
    // The key and its ancestor rows together, or neither.
    insertKey: db.transaction((row: Record<string, unknown>, ancestors: readonly string[]) => {
      insertKeyRow.run(row)
      for (const ancestor of ancestors) insertAncestor.run(ancestor, row.id)
    }),
    getKey: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
    getKeyByHash: db.prepare('SELECT * FROM api_keys WHERE secret_hash = ?'),
    revokeKeyTree: db.prepare(`UPDATE api_keys SET revoked_at = @now WHERE revoked_at IS NULL AND (${SUBTREE})`),
    listKeyTree: db.prepare(`SELECT * FROM api_keys WHERE ${SUBTREE}`),
    listAccountKeys: db.prepare('SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at, id'),
    touchKey: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    appendAudit: db.prepare(`INSERT INTO audit (id, at, action, account_id, key_id, client, detail)
      VALUES (@id, @at, @action, @account_id, @key_id, @client, @detail)`),
    listAudit: db.prepare('SELECT * FROM audit ORDER BY at DESC, id DESC LIMIT ?'),
    listAuditBefore: db.prepare('SELECT * FROM audit WHERE (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT ?'),
  }
}

function fromAccountRow(row: AccountRow | undefined): AccountRecord | null {
  if (!row) return null
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    tier: row.tier,
    passwordHash: row.password_hash,
    oidc: row.oidc_issuer === null ? null : { issuer: row.oidc_issuer, subject: row.oidc_subject! },
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  }
}

function fromKeyRow(row: KeyRow | undefined): KeyRecord | null {
  if (!row) return null
  return {
    id: row.id,
    accountId: row.account_id,
    parentId: row.parent_id,
    ancestors: JSON.parse(row.ancestors),
    name: row.name,
    kind: row.kind,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    grant: JSON.parse(row.grant_json),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  }
}
