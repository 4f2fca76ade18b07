/**
 * What the first start of a store sets up, so that the two-command start
 * needs no third: the `anonymous` account (the owner of anonymous callers'
 * notebooks and their notebook keys), and an admin account if there is none.
 *
 *   CELLGATE_BOOTSTRAP_KEY set   the admin gets a root key with exactly that
 *                                secret (scripted deployments, tests)
 *   otherwise                    the admin gets a random password, logged
 *                                once (a warning, so it shows at any level)
 *
 * Several web instances starting at once on one MongoDB are safe: account
 * names are unique in the store, so only one makes `admin` and only its
 * password is printed.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '../../telemetry/logger.ts'
import { newRecordId } from '../ids.ts'
import type { AccountRecord, PrincipalStore } from '../store/principals-port.ts'
import { hashKeySecret, SHOWN_PREFIX } from './key-secret.ts'
import { createRootKey } from './keys.ts'
import { hashPassword } from './password.ts'
import { ANONYMOUS } from '../store/port.ts'
import { fullGrant } from './principal.ts'

export const ADMIN_NAME = 'admin'

export interface FirstStartOptions {
  bootstrapKey?: string | undefined
  /** Where the web client is, for the message that says how to log in. */
  url: string
}

/**
 * @example
 *   await firstStart(store, { bootstrapKey: config.auth.bootstrapKey, url }, logger)
 */
export async function firstStart(store: PrincipalStore, options: FirstStartOptions, logger: Logger, now = Date.now()): Promise<void> {
  if ((await store.getAccount(ANONYMOUS)) === null) await store.insertAccount(account(ANONYMOUS, ANONYMOUS, 'user', null, now))
  if ((await store.countAccounts('admin')) > 0) return
  if (options.bootstrapKey !== undefined) {
    const admin = account(newRecordId(), ADMIN_NAME, 'admin', null, now)
    if (!(await store.insertAccount(admin))) return
    const secret = { secret: options.bootstrapKey, hash: hashKeySecret(options.bootstrapKey), prefix: options.bootstrapKey.slice(0, SHOWN_PREFIX) }
    const made = await createRootKey(store, admin, { name: 'bootstrap (CELLGATE_BOOTSTRAP_KEY)', grant: fullGrant('admin'), kind: 'secret', secret }, now)
    if ('record' in made) logger.info({ keyId: made.record.id }, 'first start: made the admin account with the key CELLGATE_BOOTSTRAP_KEY')
    return
  }
  const password = randomBytes(15).toString('base64url')
  if (!(await store.insertAccount(account(newRecordId(), ADMIN_NAME, 'admin', await hashPassword(password), now)))) return
  logger.warn(`first start: made the account "${ADMIN_NAME}" with the password ${password} (shown this once). Log in at ${options.url}login, or: curl -c cookies -H 'Content-Type: application/json' -d '{"name":"${ADMIN_NAME}","password":"${password}"}' ${options.url}api/v1/login`)
}

function account(id: string, name: string, role: AccountRecord['role'], passwordHash: string | null, now: number): AccountRecord {
  return { id, name, role, tier: 'default', passwordHash, oidc: null, createdAt: now, disabledAt: null }
}
