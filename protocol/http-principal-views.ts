/**
 * What HTTP clients get back about keys, accounts, logins and the audit
 * log. Times are ISO 8601 strings. A key's secret appears once, in the
 * answer that created it, and never again: lists show its prefix.
 */
import type { CapName, Scope } from './scopes.ts'

export type ResourceView = { kind: 'notebook'; id: string } | { kind: 'session'; id: string } | { kind: 'content'; prefix: string }

export interface KeyView {
  id: string
  name: string
  kind: 'secret' | 'publishable' | 'login'
  /** The first characters of the secret, to tell keys apart. */
  prefix: string
  /** The key it was made from; null for an account's root key. */
  parentId: string | null
  scopes: Scope[]
  resource: ResourceView | null
  origins: string[] | null
  notBefore: string | null
  expiresAt: string | null
  caps: Partial<Record<CapName, number>>
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

/** `POST /api/v1/keys` (201): the new key and its secret, shown this once. */
export interface CreatedKeyView {
  key: KeyView
  secret: string
}

export interface AccountView {
  id: string
  name: string
  role: 'admin' | 'user'
  tier: string
  /** How the account can log in. */
  login: { password: boolean; oidc: boolean }
  createdAt: string
  disabledAt: string | null
}

/** `GET /api/v1/me`: who the request acts for. */
export type MeView = { anonymous: true; scopes: Scope[] } | { anonymous: false; account: AccountView; key: KeyView }

/** `GET /api/v1/login/methods`: how people may log in; `oidc` names the provider when there is one. */
export interface LoginMethodsView {
  password: true
  oidc: { issuer: string } | null
}

export interface AuditView {
  id: string
  at: string
  action: string
  accountId: string | null
  keyId: string | null
  client: string
  detail: Record<string, string | number | boolean | null>
}

/** `GET /api/v1/audit`: newest first; `next` is the `before` of the next page, null after the last. */
export interface AuditPageView {
  records: AuditView[]
  next: string | null
}
