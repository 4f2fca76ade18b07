/**
 * Principal records as HTTP clients see them (protocol/http-principal-views.ts):
 * ISO times, and nothing secret — a key shows its prefix, never its hash; an
 * account shows how it can log in, never its password hash.
 */
import type { AccountView, AuditView, KeyView } from '../../protocol/index.ts'
import type { AccountRecord, AuditRecord, KeyRecord } from '../store/principals-port.ts'

/** @example toKeyView(record) // { id, name, kind, prefix: 'cg_sk_Q2hM0', scopes, …, revokedAt: null } */
export function toKeyView(key: KeyRecord): KeyView {
  const { grant } = key
  return {
    id: key.id,
    name: key.name,
    kind: key.kind,
    prefix: key.prefix,
    parentId: key.parentId,
    scopes: [...grant.scopes],
    resource: grant.resource,
    origins: grant.origins === null ? null : [...grant.origins],
    notBefore: isoOrNull(grant.notBefore),
    expiresAt: isoOrNull(grant.expiresAt),
    caps: grant.caps,
    createdAt: iso(key.createdAt),
    lastUsedAt: isoOrNull(key.lastUsedAt),
    revokedAt: isoOrNull(key.revokedAt),
  }
}

/** @example toAccountView(record) // { id, name: 'ada', role: 'user', tier: 'default', login: { password: true, oidc: false }, … } */
export function toAccountView(account: AccountRecord): AccountView {
  return {
    id: account.id,
    name: account.name,
    role: account.role,
    tier: account.tier,
    login: { password: account.passwordHash !== null, oidc: account.oidc !== null },
    createdAt: iso(account.createdAt),
    disabledAt: isoOrNull(account.disabledAt),
  }
}

/** @example toAuditView(record) // { id, at: '2026-12-03T…', action: 'key.revoked', … } */
export function toAuditView(record: AuditRecord): AuditView {
  return { ...record, at: iso(record.at) }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms)
}
