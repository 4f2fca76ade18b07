/**
 * Valid records for store tests, each new one with a fresh id and a later
 * createdAt than the one before, so tests can rely on construction order.
 */
import type { AccountRecord, AuditRecord, JobRecord, KeyRecord, NotebookRecord, SessionRecord } from '../../../server/store/port.ts'

let counter = 0

/** The next sample's number and an id of its own, ordered by construction. */
function next(prefix: string): { id: string; at: number } {
  counter += 1
  return { id: `${prefix}${String(counter).padStart(5, '0')}${Math.random().toString(36).slice(2, 8)}`, at: 1_700_000_000_000 + counter }
}

/** A valid job record, oldest first by construction order. */
export function sampleJob(overrides: Partial<JobRecord> = {}): JobRecord {
  const { id, at } = next('job')
  return {
    id,
    status: 'queued',
    code: '1 + 1',
    owner: 'anonymous',
    keyId: null,
    private: false,
    limits: { wallMs: 10_000, cpuMs: 5_000, memoryMb: 64, outputBytes: 1_048_576, outputs: 10_000 },
    priority: 5,
    account: overrides.owner ?? 'anonymous',
    createdAt: at,
    startedAt: null,
    endedAt: null,
    result: null,
    error: null,
    usage: null,
    dispatcherBoot: null,
    sandboxId: null,
    session: null,
    ...overrides,
  }
}

/** A valid active session record. */
export function sampleSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const { id, at } = next('ses')
  return {
    id,
    status: 'active',
    owner: 'anonymous',
    keyId: null,
    client: '127.0.0.1',
    memoryMb: 64,
    createdAt: at,
    lastUsedAt: at,
    endedAt: null,
    endReason: null,
    cells: 0,
    ...overrides,
  }
}

/** An active user account with a unique name, no password and no OIDC identity. */
export function sampleAccount(overrides: Partial<AccountRecord> = {}): AccountRecord {
  const { id, at } = next('acc')
  return {
    id,
    name: `user-${id}`,
    role: 'user',
    tier: 'default',
    passwordHash: null,
    oidc: null,
    createdAt: at,
    disabledAt: null,
    ...overrides,
  }
}

/**
 * A live key of `account` with every scope and no other bound; `parent`
 * makes it that key's child (its ancestors follow).
 */
export function sampleKey(account: Pick<AccountRecord, 'id'>, parent?: KeyRecord, overrides: Partial<KeyRecord> = {}): KeyRecord {
  const { id, at } = next('key')
  return {
    id,
    accountId: account.id,
    parentId: parent?.id ?? null,
    ancestors: parent ? [...parent.ancestors, parent.id] : [],
    name: `key ${id}`,
    kind: 'secret',
    prefix: `cg_sk_${id.slice(-6)}`,
    secretHash: `${id}${'0'.repeat(64)}`.slice(0, 64),
    grant: { scopes: ['cells:run', 'sessions:use', 'keys:manage'], resource: null, origins: null, notBefore: null, expiresAt: null, caps: {} },
    createdAt: at,
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  }
}

/** An audit record of a login. */
export function sampleAudit(overrides: Partial<AuditRecord> = {}): AuditRecord {
  const { id, at } = next('aud')
  return {
    id,
    at: at,
    action: 'login',
    accountId: null,
    keyId: null,
    client: '127.0.0.1',
    detail: {},
    ...overrides,
  }
}

/** A saved notebook of one cell. */
export function sampleNotebook(overrides: Partial<NotebookRecord> = {}): NotebookRecord {
  const { id, at } = next('nb')
  return {
    id,
    title: `notebook ${id}`,
    cells: [{ code: '6 * 7' }],
    owner: 'anonymous',
    keyId: null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  }
}
