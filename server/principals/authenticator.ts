/**
 * The Authenticator the web tier runs on (server/caller.ts): a key's secret
 * to a principal through the store (keys.ts resolveKey: two indexed reads),
 * behind the optional short cache (key-cache.ts). Each key's lastUsedAt is
 * written at most once per TOUCH_EVERY_MS, after the answer, so the hot
 * path has no extra write.
 */
import type { Config } from '../../config/schema.ts'
import type { Logger } from '../../telemetry/logger.ts'
import type { Authenticator } from '../caller.ts'
import type { PrincipalStore } from '../store/principals-port.ts'
import { KeyCache } from './key-cache.ts'
import { resolveKey } from './keys.ts'
import { anonymousPrincipal, type KeyPrincipal } from './principal.ts'

/** lastUsedAt is that precise: a minute. */
const TOUCH_EVERY_MS = 60_000
/** Keys whose last touch is remembered at most; past it the map starts again (a few extra writes). */
const MAX_TOUCHED = 100_000

export interface StoreAuthenticator extends Authenticator {
  cache: KeyCache
}

/**
 * @example
 *   const auth = storeAuthenticator(store, config.auth, logger)
 *   app.use('/api/v1/*', identifyCaller(auth))
 */
export function storeAuthenticator(store: PrincipalStore, config: Config['auth'], logger: Logger): StoreAuthenticator {
  const touched = new Map<string, number>()
  const touch = (principal: KeyPrincipal, now: number) => {
    const last = touched.get(principal.key.id) ?? principal.key.lastUsedAt ?? 0
    if (now - last < TOUCH_EVERY_MS) return
    if (touched.size >= MAX_TOUCHED) touched.clear()
    touched.set(principal.key.id, now)
    store.touchKey(principal.key.id, now).catch((err: unknown) => logger.warn({ err, keyId: principal.key.id }, 'could not record when a key was last used'))
  }
  const cache = new KeyCache(config.keyCacheMs, async (secret) => {
    const found = await resolveKey(store, secret, Date.now())
    return found === null ? null : { kind: 'key', account: found.account, key: found.key, grant: found.key.grant }
  })
  return {
    anonymous: anonymousPrincipal(config.anonymous),
    cache,
    async resolve(secret) {
      const principal = await cache.resolve(secret)
      if (principal !== null) touch(principal, Date.now())
      return principal
    },
  }
}
