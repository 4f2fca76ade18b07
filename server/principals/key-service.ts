/**
 * Keys as the API offers them to the key a request is made with: its own
 * tree to list, sub-keys to make (only ever narrower: keys.ts and
 * rights.ts), and itself or any key below it to revoke. Anything outside
 * its tree is not found.
 *
 * A login (the web client's cookie) is the person acting as their account,
 * with all the account may do; its key is only the session. So a login
 * manages the account's keys: it lists and revokes any of them, and a key
 * it makes is a root key of the account, narrowed from what the account's
 * role allows rather than from the login, so it outlives the login (a key
 * for a script made on the Keys page keeps working after logging out). Every creation and revocation is audited with the
 * client's address; a revocation is forgotten by this instance's key cache
 * at once (other instances: within config.auth.keyCacheMs).
 */
import type { CreatedKeyView, KeyRequest, KeyView } from '../../protocol/index.ts'
import type { Caller } from '../caller.ts'
import { ApiError } from '../errors.ts'
import { treeOrder, type KeyRecord, type PrincipalStore } from '../store/principals-port.ts'
import type { KeyCache } from './key-cache.ts'
import { createRootKey, createSubKey, revokeKey, type KeyCreation } from './keys.ts'
import { fullGrant, type KeyPrincipal } from './principal.ts'
import { narrow, type GrantRequest } from './rights.ts'
import { toKeyView } from './views.ts'
import { audit } from './audit.ts'

export interface KeyServiceDeps {
  store: PrincipalStore
  cache: KeyCache
}

/** The parsed body of POST /api/v1/keys (protocol keyRequestSchema's output). */
export type KeyInput = Omit<KeyRequest, 'kind' | 'notBefore' | 'expiresAt'> & { kind: 'secret' | 'publishable'; notBefore?: number | null; expiresAt?: number | null }

export class KeyService {
  readonly #store: PrincipalStore
  readonly #cache: KeyCache

  constructor({ store, cache }: KeyServiceDeps) {
    this.#store = store
    this.#cache = cache
  }

  /** The caller's key and every key below it, parents before children. */
  async list(caller: Caller): Promise<KeyView[]> {
    const { key, account } = keyOf(caller)
    if (key.kind !== 'login') return (await this.#store.listKeyTree(key.id)).map(toKeyView)
    const now = Date.now()
    // Other logins are shown while they last (other browsers); ended ones would pile up, one per login.
    const ended = (k: KeyRecord) => k.kind === 'login' && k.id !== key.id && (k.revokedAt !== null || (k.grant.expiresAt !== null && k.grant.expiresAt <= now))
    return (await this.#store.listAccountKeys(account.id)).filter((k) => !ended(k)).sort(treeOrder).map(toKeyView)
  }

  /**
   * @example
   *   await keys.create(caller, { name: 'grader', kind: 'secret', scopes: ['cells:run'] }) // { key, secret }
   */
  async create(caller: Caller, input: KeyInput): Promise<CreatedKeyView> {
    const principal = keyOf(caller)
    const { name, kind, ...asked } = input
    const request = Object.fromEntries(Object.entries(asked).filter(([, value]) => value !== undefined)) as GrantRequest
    const now = Date.now()
    const made = principal.key.kind === 'login'
      ? await this.#createForAccount(principal, { name, kind, request }, now)
      : await createSubKey(this.#store, principal.key, { name, kind, request }, now)
    if ('refusal' in made) throw new ApiError('forbidden', `${made.refusal.dimension}: ${made.refusal.message}`)
    if ('parentRevoked' in made) throw new ApiError('unauthenticated', 'the key was revoked while the sub-key was being made')
    await audit(this.#store, caller, 'key.created', { keyId: made.record.id, kind: made.record.kind, parentId: made.record.parentId }, now)
    return { key: toKeyView(made.record), secret: made.secret }
  }

  /** Revokes the key and its subtree; null when it is not the caller's key or below it. */
  async revoke(caller: Caller, id: string): Promise<KeyView | null> {
    const principal = keyOf(caller)
    const now = Date.now()
    const revoked = principal.key.kind === 'login' ? await this.#revokeForAccount(principal, id, now) : await revokeKey(this.#store, principal.key, id, now)
    if ('notFound' in revoked) return null
    this.#cache.forgetTree(id)
    if (revoked.revoked > 0) await audit(this.#store, caller, 'key.revoked', { keyId: id, revoked: revoked.revoked }, now)
    const key = await this.#store.getKey(id)
    return key === null ? null : toKeyView(key)
  }

  /** A root key of the login's account, within what the account's role allows. */
  async #createForAccount(login: KeyPrincipal, { name, kind, request }: { name: string; kind: KeyInput['kind']; request: GrantRequest }, now: number): Promise<KeyCreation> {
    const narrowed = narrow(fullGrant(login.account.role), request)
    if ('refusal' in narrowed) return narrowed
    return createRootKey(this.#store, login.account, { name, grant: narrowed.grant, kind }, now)
  }

  /** Any key of the login's account; another account's key is not found. */
  async #revokeForAccount(login: KeyPrincipal, id: string, now: number): Promise<{ revoked: number } | { notFound: true }> {
    const key = await this.#store.getKey(id)
    if (key === null || key.accountId !== login.account.id) return { notFound: true }
    return { revoked: await this.#store.revokeKeyTree(id, now) }
  }
}

/** The caller's key principal; anonymous callers have no keys to manage. */
function keyOf(caller: Caller): KeyPrincipal {
  if (caller.principal.kind !== 'key') throw new ApiError('unauthenticated', 'keys are managed with a key (Authorization: Bearer <key>)')
  return caller.principal
}

