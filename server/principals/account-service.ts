/**
 * Accounts as admins manage them through the API (the CLI does the same
 * through the store directly): create one, with a password to log in with
 * and a first key shown once; list them; disable one, which stops every key
 * of it at once (resolveKey checks the account). Also `me`: who a request
 * acts for. Each change is audited.
 */
import type { AccountView, CreatedKeyView, MeView } from '../../protocol/index.ts'
import type { Caller } from '../caller.ts'
import { ApiError } from '../errors.ts'
import { newRecordId } from '../ids.ts'
import type { AccountRecord, PrincipalStore } from '../store/principals-port.ts'
import { audit } from './audit.ts'
import { authorize } from './authorize.ts'
import { createRootKey } from './keys.ts'
import { hashPassword } from './password.ts'
import { ANONYMOUS } from '../store/port.ts'
import { fullGrant } from './principal.ts'
import { toAccountView, toKeyView } from './views.ts'

/** Accounts one page of GET /api/v1/accounts holds at most. */
export const ACCOUNTS_PAGE = 100

export interface AccountInput {
  name: string
  role: AccountRecord['role']
  password?: string | undefined
}

export class AccountService {
  readonly #store: PrincipalStore

  constructor({ store }: { store: PrincipalStore }) {
    this.#store = store
  }

  /**
   * @example
   *   await accounts.create(caller, { name: 'ada', role: 'user', password }) // { account, key, secret }
   */
  async create(caller: Caller, input: AccountInput): Promise<{ account: AccountView } & CreatedKeyView> {
    authorize(caller, 'admin')
    const made = await createAccount(this.#store, input)
    await audit(this.#store, caller, 'account.created', { accountId: made.account.id, name: made.account.name, role: made.account.role })
    return made
  }

  async list(caller: Caller, afterId?: string): Promise<AccountView[]> {
    authorize(caller, 'admin')
    return (await this.#store.listAccounts(ACCOUNTS_PAGE, afterId)).map(toAccountView)
  }

  /** Disables an account (every key of it stops working); null when there is none with that id. */
  async disable(caller: Caller, id: string): Promise<AccountView | null> {
    authorize(caller, 'admin')
    if (await this.#store.disableAccount(id, Date.now())) await audit(this.#store, caller, 'account.disabled', { accountId: id })
    const account = await this.#store.getAccount(id)
    return account === null ? null : toAccountView(account)
  }

  me(caller: Caller): MeView {
    const { principal } = caller
    if (principal.kind === 'anonymous') return { anonymous: true, scopes: [...principal.grant.scopes] }
    return { anonymous: false, account: toAccountView(principal.account), key: toKeyView(principal.key) }
  }
}

/**
 * Stores a new account and its first key (every scope its role allows),
 * for the API and the CLI. 409 conflict when the name is taken.
 *
 * @example
 *   const { account, secret } = await createAccount(store, { name: 'ada', role: 'user' })
 */
export async function createAccount(store: PrincipalStore, input: AccountInput, now = Date.now()): Promise<{ account: AccountView } & CreatedKeyView> {
  if (input.name === ANONYMOUS) throw new ApiError('conflict', `the name ${ANONYMOUS} is the server's own`)
  const account = newAccountRecord({ ...input, passwordHash: input.password === undefined ? null : await hashPassword(input.password) }, now)
  if (!(await store.insertAccount(account))) throw new ApiError('conflict', `there is already an account named ${input.name}`)
  const key = await createRootKey(store, account, { name: 'first key', grant: fullGrant(account.role), kind: 'secret' }, now)
  if ('refusal' in key) throw new Error(`a full grant was refused: ${key.refusal.message}`)
  return { account: toAccountView(account), key: toKeyView(key.record), secret: key.secret }
}

/**
 * A new account's record, not stored yet: the API's and CLI's accounts
 * (createAccount) and those OpenID Connect logins make (oidc-login.ts).
 *
 * @example
 *   const account = newAccountRecord({ name: 'ada', role: 'user', oidc: { issuer, subject } })
 *   await store.insertAccount(account) // false when the name or the identity is taken
 */
export function newAccountRecord(
  { name, role, passwordHash = null, oidc = null }: Pick<AccountRecord, 'name' | 'role'> & Partial<Pick<AccountRecord, 'passwordHash' | 'oidc'>>, now = Date.now(),
): AccountRecord {
  return { id: newRecordId(), name, role, tier: 'default', passwordHash, oidc, createdAt: now, disabledAt: null }
}
