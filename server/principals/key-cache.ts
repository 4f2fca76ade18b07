/**
 * Trusting a looked-up key for a short while (config auth.keyCacheMs), so a
 * web instance on a remote MongoDB need not ask it on every request. The
 * price is stated: a key revoked through another instance may keep working
 * here for up to that long (revocation through this instance forgets the
 * key at once). 0, the default, asks the store every time. Entries are
 * bounded in number, and a key not found is never cached, so guessing
 * secrets fills nothing.
 */
import type { KeyPrincipal } from './principal.ts'

/** Keys remembered at most; past it the oldest entry goes. */
const MAX_ENTRIES = 10_000

export class KeyCache {
  readonly #ttlMs: number
  readonly #lookup: (secret: string) => Promise<KeyPrincipal | null>
  readonly #now: () => number
  readonly #entries = new Map<string, { principal: KeyPrincipal; until: number }>()

  /**
   * @param lookup the store's answer for a secret (null: not a live key)
   * @example
   *   const keys = new KeyCache(1000, (secret) => resolveKey(store, secret, Date.now()))
   *   await keys.resolve(secret)
   */
  constructor(ttlMs: number, lookup: (secret: string) => Promise<KeyPrincipal | null>, now: () => number = Date.now) {
    this.#ttlMs = ttlMs
    this.#lookup = lookup
    this.#now = now
  }

  async resolve(secret: string): Promise<KeyPrincipal | null> {
    if (this.#ttlMs === 0) return this.#lookup(secret)
    const now = this.#now()
    const cached = this.#entries.get(secret)
    if (cached !== undefined && cached.until > now && (cached.principal.grant.expiresAt === null || cached.principal.grant.expiresAt > now)) return cached.principal
    this.#entries.delete(secret)
    const principal = await this.#lookup(secret)
    if (principal === null) return null
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(secret, { principal, until: now + this.#ttlMs })
    return principal
  }

  /** Forgets a key just revoked here, and every key below it. */
  forgetTree(keyId: string): void {
    for (const [secret, { principal }] of this.#entries) {
      if (principal.key.id === keyId || principal.key.ancestors.includes(keyId)) this.#entries.delete(secret)
    }
  }
}
