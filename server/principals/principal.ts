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
import { ANONYMOUS, type AccountRecord, type KeyRecord } from '../store/port.ts'
import { SCOPES, type Grant, type Scope } from './rights.ts'


export type AnonymousMode = 'run' | 'off'

/** A live key and its account, as resolveKey found them in the store. */
export interface KeyPrincipal {
  kind: 'key'
  account: AccountRecord
  key: KeyRecord
  /** The key's grant (key.grant): what every decision reads. */
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
  return principal.kind === 'key' ? principal.account.id : ANONYMOUS
}

/**
 * Whose turn a request's cells run in at the dispatcher (JobSpec.account):
 * its account, or for an anonymous caller its address, so that one
 * anonymous flood does not starve the other anonymous readers of a page
 * (behind a proxy, every anonymous caller is the proxy and shares one turn).
 *
 * @example shareOf(anonymousPrincipal('run'), '127.0.0.2') // 'anonymous:127.0.0.2'
 */
export function shareOf(principal: Principal, client: string): string {
  return principal.kind === 'key' ? principal.account.id : `${ANONYMOUS}:${client}`
}

/** The key a request acts through, as records store it; null for anonymous. */
export function keyOf(principal: Principal): string | null {
  return principal.kind === 'key' ? principal.key.id : null
}

/**
 * What an account's root keys (its login, its first key) hold: every scope
 * but `admin`, which only admins have, with no restriction. Sub-keys narrow it.
 *
 * @example fullGrant('user').scopes.includes('admin') // false
 */
export function fullGrant(role: AccountRecord['role'], expiresAt: number | null = null): Grant {
  return { scopes: role === 'admin' ? [...SCOPES] : SCOPES.filter((scope) => scope !== 'admin'), resource: null, origins: null, notBefore: null, expiresAt, caps: {} }
}
