/**
 * Logging in: the web client's way in, with a name and password here or
 * through OpenID Connect (oidc-login.ts); both end in `open`. A login is
 * a key of its own (kind `login`, a root key of the account with every scope
 * its role allows, valid LOGIN_TTL_MS), whose secret the login route puts in
 * an HttpOnly cookie; so a login is listed, revoked and checked like any
 * key, and logging out revokes it (the logout route, through KeyService).
 *
 * Password hashing costs tens of milliseconds of CPU by design, so attempts
 * are budgeted per client address (LOGIN_ATTEMPTS per LOGIN_WINDOW_MS, 429
 * past it), and at most MAX_VERIFYING are checked at once whoever sends
 * them (429 with a retry in a second past it): a flood of guesses, from one
 * address or from many, cannot take the CPU from other callers. An
 * unknown name costs the same hash as a wrong password, so timing does not
 * tell which names exist. Failures and successes are audited.
 */
import type { Caller } from '../caller.ts'
import { ClientBudget } from '../client-budget.ts'
import { ApiError } from '../errors.ts'
import type { AccountRecord, PrincipalStore } from '../store/principals-port.ts'
import { audit } from './audit.ts'
import { createRootKey } from './keys.ts'
import { hashPassword, verifyPassword } from './password.ts'
import { fullGrant } from './principal.ts'

/** How long a login lasts. */
export const LOGIN_TTL_MS = 7 * 24 * 60 * 60_000
/** Password attempts one client address may make per window. */
export const LOGIN_ATTEMPTS = 20
export const LOGIN_WINDOW_MS = 10 * 60_000
/** Passwords checked at once, over all clients: each takes a thread of the pool and tens of milliseconds of CPU. */
export const MAX_VERIFYING = 4
/** What a login refused for that waits before it tries again. */
const BUSY_RETRY_MS = 1_000

export type LoginMethod = 'password' | 'oidc'

export interface Login {
  account: AccountRecord
  /** The login key's secret, for the cookie. */
  secret: string
  expiresAt: number
}

export class LoginService {
  readonly #store: PrincipalStore
  readonly #attempts = new ClientBudget(LOGIN_ATTEMPTS, LOGIN_WINDOW_MS)
  /** A hash to verify against when the name is unknown, so that costs what a wrong password does. */
  readonly #decoy = hashPassword('not a password anyone has')
  #verifying = 0

  constructor({ store }: { store: PrincipalStore }) {
    this.#store = store
  }

  /**
   * @example
   *   const { secret, expiresAt } = await logins.login(caller, { name: 'admin', password })
   */
  async login(caller: Caller, { name, password }: { name: string; password: string }): Promise<Login> {
    const now = Date.now()
    const wait = this.#attempts.waitMs(caller.client, 1, now)
    if (wait > 0) throw new ApiError('rate_limited', `this address made ${LOGIN_ATTEMPTS} login attempts in ${LOGIN_WINDOW_MS / 60_000} minutes, the most it may`, wait)
    if (this.#verifying >= MAX_VERIFYING) throw new ApiError('rate_limited', 'the server is checking as many passwords as it may at once; try again in a second', BUSY_RETRY_MS)
    this.#attempts.spend(caller.client, 1, now)
    // Taken before the first await, so requests arriving together cannot all pass the check above.
    this.#verifying++
    try {
      const account = await this.#store.getAccountByName(name)
      const usable = account !== null && account.disabledAt === null && account.passwordHash !== null
      const matches = await verifyPassword(password, usable ? account.passwordHash! : await this.#decoy)
      if (!usable || !matches) {
        await audit(this.#store, caller, 'login.failed', { name, reason: account === null ? 'unknown name' : !usable ? 'cannot log in' : 'wrong password' }, now)
        throw new ApiError('unauthenticated', 'the name or the password is wrong')
      }
      return await this.open(caller, account, 'password', now)
    } finally {
      this.#verifying--
    }
  }

  /**
   * Logs in an account whose person has proved who they are (by password,
   * or by an OpenID Connect provider): mints the login key and audits
   * `login` with the method. The account must not be disabled.
   *
   * @example
   *   const login = await logins.open(caller, account, 'oidc')
   *   setLoginCookies(c, login)
   */
  async open(caller: Caller, account: AccountRecord, method: LoginMethod, now = Date.now()): Promise<Login> {
    if (account.disabledAt !== null) throw new Error(`account ${account.id} is disabled and cannot log in`)
    const expiresAt = now + LOGIN_TTL_MS
    const made = await createRootKey(this.#store, account, { name: 'web login', grant: fullGrant(account.role, expiresAt), kind: 'login' }, now)
    if ('refusal' in made) throw new Error(`a login grant was refused: ${made.refusal.message}`)
    await audit(this.#store, { ...caller, principal: { kind: 'key', account, key: made.record, grant: made.record.grant } }, 'login', { method }, now)
    return { account, secret: made.secret, expiresAt }
  }

  /** Forgets addresses whose attempts are whole again; the sweep calls it. */
  forgetRefilled(now = Date.now()): void {
    this.#attempts.forgetRefilled(now)
  }
}
