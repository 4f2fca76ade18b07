/**
 * Accounts, keys and the audit log in MongoDB (the PrincipalStore half of
 * mongo.ts), with the documents they are kept as:
 *
 * - an account's `oidc` field is left out, not null, when it has none: the
 *   unique index on (oidc.issuer, oidc.subject) is sparse, so only accounts
 *   with an identity compete (FerretDB v1 has no partial indexes; it
 *   accepts `sparse` and leaves such documents out of a unique index anyway);
 * - a key's `ancestors` array has a multikey index: a subtree is
 *   `{$or: [{_id}, {ancestors: id}]}`, revoked by one updateMany (then
 *   repeated for children made meanwhile, see revokeKeyTree);
 * - an audit record's detail is JSON text, as a notebook's cells are: its
 *   keys are whatever the caller chose, and FerretDB refuses some.
 *
 * Uniqueness comes from the indexes: a duplicate key error on insert is a
 * taken name, never a check-then-insert.
 */
import { MongoServerError, type Collection, type Db } from 'mongodb'
import type { Grant } from '../principals/rights.ts'
import { toDate } from './mongo-docs.ts'
import {
  treeOrder, type AccountRecord, type AccountRole, type AuditCursor, type AuditRecord, type KeyRecord, type OidcIdentity, type PrincipalStore,
} from './principals-port.ts'

interface AccountDoc {
  _id: string
  name: string
  role: AccountRole
  tier: string
  passwordHash: string | null
  oidc?: OidcIdentity
  createdAt: Date
  disabledAt: Date | null
}

interface KeyDoc {
  _id: string
  accountId: string
  parentId: string | null
  ancestors: string[]
  name: string
  kind: KeyRecord['kind']
  prefix: string
  secretHash: string
  grant: Grant
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

interface AuditDoc {
  _id: string
  at: Date
  action: string
  accountId: string | null
  keyId: string | null
  client: string
  detail: string
}

const MAJORITY = { writeConcern: { w: 'majority' } } as const
const DUPLICATE_KEY = 11000
/** Passes after the first only find children made during the one before; a few settle any tree. */
const MAX_REVOKE_PASSES = 4

/**
 * @example
 *   const principals = new MongoPrincipals(client.db('cellgate'))
 *   await principals.createIndexes()
 *   await principals.getKeyByHash(hashKeySecret(secret))
 */
export class MongoPrincipals implements PrincipalStore {
  private readonly accounts: Collection<AccountDoc>
  private readonly keys: Collection<KeyDoc>
  private readonly audit: Collection<AuditDoc>

  constructor(db: Db) {
    this.accounts = db.collection<AccountDoc>('accounts')
    this.keys = db.collection<KeyDoc>('keys')
    this.audit = db.collection<AuditDoc>('audit')
  }

  /** Idempotent; one index per call, as mongo.ts does, for FerretDB. */
  async createIndexes(): Promise<void> {
    await this.accounts.createIndex({ name: 1 }, { name: 'name', unique: true })
    await this.accounts.createIndex({ 'oidc.issuer': 1, 'oidc.subject': 1 }, { name: 'oidc', unique: true, sparse: true })
    await this.keys.createIndex({ secretHash: 1 }, { name: 'secretHash', unique: true })
    await this.keys.createIndex({ ancestors: 1 }, { name: 'ancestors' })
    await this.keys.createIndex({ accountId: 1, createdAt: 1 }, { name: 'accountId_createdAt' })
    await this.audit.createIndex({ at: -1, _id: -1 }, { name: 'at_id' })
  }

  async insertAccount(a: AccountRecord): Promise<boolean> {
    const doc: AccountDoc = {
      _id: a.id, name: a.name, role: a.role, tier: a.tier, passwordHash: a.passwordHash, createdAt: new Date(a.createdAt), disabledAt: toDate(a.disabledAt),
    }
    if (a.oidc) doc.oidc = { issuer: a.oidc.issuer, subject: a.oidc.subject }
    try {
      await this.accounts.insertOne(doc, MAJORITY)
      return true
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return false
      throw err
    }
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    return fromAccountDoc(await this.accounts.findOne({ _id: id }))
  }

  async getAccountByName(name: string): Promise<AccountRecord | null> {
    return fromAccountDoc(await this.accounts.findOne({ name }))
  }

  async getAccountByOidc(issuer: string, subject: string): Promise<AccountRecord | null> {
    return fromAccountDoc(await this.accounts.findOne({ 'oidc.issuer': issuer, 'oidc.subject': subject }))
  }

  async disableAccount(id: string, now: number): Promise<boolean> {
    return (await this.accounts.updateOne({ _id: id, disabledAt: null }, { $set: { disabledAt: new Date(now) } }, MAJORITY)).modifiedCount === 1
  }

  async setAccountPassword(id: string, passwordHash: string | null): Promise<boolean> {
    return (await this.accounts.updateOne({ _id: id }, { $set: { passwordHash } }, MAJORITY)).matchedCount === 1
  }

  async countAccounts(role?: AccountRole): Promise<number> {
    return this.accounts.countDocuments(role === undefined ? { disabledAt: null } : { disabledAt: null, role })
  }

  async listAccounts(limit: number, afterId?: string): Promise<AccountRecord[]> {
    const docs = await this.accounts.find(afterId === undefined ? {} : { _id: { $gt: afterId } }).sort({ _id: 1 }).limit(limit).toArray()
    return docs.map((doc) => fromAccountDoc(doc)!)
  }

  async insertKey(k: KeyRecord): Promise<void> {
    const { id, createdAt, lastUsedAt, revokedAt, ...rest } = k
    await this.keys.insertOne({ _id: id, ...rest, createdAt: new Date(createdAt), lastUsedAt: toDate(lastUsedAt), revokedAt: toDate(revokedAt) }, MAJORITY)
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    return fromKeyDoc(await this.keys.findOne({ _id: id }))
  }

  async getKeyByHash(secretHash: string): Promise<KeyRecord | null> {
    return fromKeyDoc(await this.keys.findOne({ secretHash }))
  }

  /**
   * The first updateMany revokes the tree. MongoDB does not isolate the
   * documents of one updateMany from inserts made meanwhile, so a sub-key
   * stored while it ran may be passed over and still have found its parent
   * live (keys.ts re-reads the parent after inserting a child). Running it
   * again until it finds nothing catches those: a child stored after a pass
   * began finds its parent already revoked and revokes itself.
   */
  async revokeKeyTree(id: string, now: number): Promise<number> {
    let revoked = 0
    for (let pass = 0; pass < MAX_REVOKE_PASSES; pass++) {
      const result = await this.keys.updateMany({ $or: [{ _id: id }, { ancestors: id }], revokedAt: null }, { $set: { revokedAt: new Date(now) } }, MAJORITY)
      revoked += result.modifiedCount
      if (result.modifiedCount === 0) break
    }
    return revoked
  }

  async listKeyTree(id: string): Promise<KeyRecord[]> {
    const docs = await this.keys.find({ $or: [{ _id: id }, { ancestors: id }] }).toArray()
    return docs.map((doc) => fromKeyDoc(doc)!).sort(treeOrder)
  }

  async listAccountKeys(accountId: string): Promise<KeyRecord[]> {
    return (await this.keys.find({ accountId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((doc) => fromKeyDoc(doc)!)
  }

  async touchKey(id: string, now: number): Promise<void> {
    // Last use is a hint, not a record: the default write concern is enough.
    await this.keys.updateOne({ _id: id }, { $set: { lastUsedAt: new Date(now) } })
  }

  async appendAudit(r: AuditRecord): Promise<void> {
    const { id, at, detail, ...rest } = r
    await this.audit.insertOne({ _id: id, at: new Date(at), ...rest, detail: JSON.stringify(detail) }, MAJORITY)
  }

  async listAudit({ before, limit }: { before?: AuditCursor; limit: number }): Promise<AuditRecord[]> {
    const at = before && new Date(before.at)
    const filter = before ? { $or: [{ at: { $lt: at! } }, { at: at!, _id: { $lt: before.id } }] } : {}
    const docs = await this.audit.find(filter).sort({ at: -1, _id: -1 }).limit(limit).toArray()
    return docs.map(({ _id, at, detail, ...rest }) => ({ id: _id, at: at.getTime(), ...rest, detail: JSON.parse(detail) }))
  }
}

function fromAccountDoc(doc: AccountDoc | null): AccountRecord | null {
  if (!doc) return null
  return {
    id: doc._id,
    name: doc.name,
    role: doc.role,
    tier: doc.tier,
    passwordHash: doc.passwordHash,
    oidc: doc.oidc ? { issuer: doc.oidc.issuer, subject: doc.oidc.subject } : null,
    createdAt: doc.createdAt.getTime(),
    disabledAt: doc.disabledAt?.getTime() ?? null,
  }
}

function fromKeyDoc(doc: KeyDoc | null): KeyRecord | null {
  if (!doc) return null
  const { _id, createdAt, lastUsedAt, revokedAt, ...rest } = doc
  return { id: _id, ...rest, createdAt: createdAt.getTime(), lastUsedAt: lastUsedAt?.getTime() ?? null, revokedAt: revokedAt?.getTime() ?? null }
}
