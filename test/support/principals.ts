/**
 * Principals for tests: the admin key every test server starts with (as
 * CELLGATE_BOOTSTRAP_KEY), and requests made with a key.
 */
import type { Authenticator, Caller } from '../../server/caller.ts'

export const ADMIN_KEY = 'cg_sk_' + 'T'.repeat(20) + 'estAdminKeyForTests_123'

/** @example fetch(url, { headers: withKey(ADMIN_KEY) }) */
export function withKey(secret: string, headers: Record<string, string> = {}): Record<string, string> {
  return { ...headers, Authorization: `Bearer ${secret}` }
}

/** A service caller acting through the key with this secret, as the auth middleware would make it. */
export async function keyCaller(auth: Authenticator, secret: string, client = '127.0.0.1'): Promise<Caller> {
  const principal = await auth.resolve(secret)
  if (principal === null) throw new Error('not a live key')
  return { client, origin: null, principal }
}
