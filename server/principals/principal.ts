/**
 * Who a request acts for, once the auth middleware has read its
 * credentials: an account through one of its keys, or anonymous. Every
 * service call gets it inside the Caller (server/caller.ts); decisions are
 * made on its grant by authorize.ts, never on headers.
 *
 * Anonymous callers have a grant of their own, set by CELLGATE_ANONYMOUS:
 *
 *   run   (the default, so the embedded start runs a cell with no key)
 *         cells:run, sessions:use, notebooks:read, notebooks:write — a
 *         one-off cell or session of their own, and new notebooks (each new
 *         one comes with a key that edits it and nothing else)
 *   off   nothing: every action needs a key
 *
 * Reading a cell or notebook by its permalink needs no scope in either mode:
 * the unguessable id is the capability (a private cell is its owner's only).
 */
import type { Grant, Scope } from './rights.ts'

/** The owner recorded for what anonymous callers make, and the account their notebook keys belong to. */
export const ANONYMOUS = 'anonymous'

export type AnonymousMode = 'run' | 'off'

export type KeyKind = 'secret' | 'publishable' | 'login'

export interface KeyPrincipal {
  kind: 'key'
  accountId: string
  /** The account's role: an admin's first key has the admin scope, but rights come from the grant alone. */
  role: 'admin' | 'user'
  /** The account's tier (quality of service). */
  tier: string
  keyId: string
  keyKind: KeyKind
  grant: Grant
}

export interface AnonymousPrincipal {
  kind: 'anonymous'
  grant: Grant
}

export type Principal = KeyPrincipal | AnonymousPrincipal

function anonymousWith(scopes: Scope[]): AnonymousPrincipal {
  return Object.freeze({ kind: 'anonymous', grant: Object.freeze({ scopes, resource: null, origins: null, notBefore: null, expiresAt: null, caps: {} }) })
}

/** @example anonymousPrincipal('run').grant.scopes // ['cells:run', 'sessions:use', 'notebooks:read', 'notebooks:write'] */
export function anonymousPrincipal(mode: AnonymousMode): AnonymousPrincipal {
  return mode === 'run' ? RUN : OFF
}

const RUN = anonymousWith(['cells:run', 'sessions:use', 'notebooks:read', 'notebooks:write'])
const OFF = anonymousWith([])

/** The account a request acts for, as records store it: an account id, or `anonymous`. */
export function ownerOf(principal: Principal): string {
  return principal.kind === 'key' ? principal.accountId : ANONYMOUS
}

/** The key a request acts through, as records store it; null for anonymous. */
export function keyOf(principal: Principal): string | null {
  return principal.kind === 'key' ? principal.keyId : null
}
