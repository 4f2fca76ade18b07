/**
 * Small values the server hands to a browser and must get back unread and
 * unchanged: the state of an OpenID Connect login in flight (its PKCE
 * verifier, state and nonce) rides in a cookie sealed here, so no web
 * instance keeps it in memory and the provider's redirect may land on any
 * instance. AES-256-GCM, which both hides and authenticates, under a key
 * derived (HKDF-SHA256) from a secret every instance is configured with;
 * each sealed value carries when it stops being accepted.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16

/** A key for seal/unseal from a configured secret; `purpose` keeps keys of different uses apart. */
export function sealingKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'cellgate sealed value', purpose, 32))
}

/**
 * @example
 *   const key = sealingKey(config.clientSecret, 'oidc state')
 *   const text = sealValue(key, { state, nonce }, 10 * 60_000) // base64url, for a cookie
 *   unsealValue(key, text) // { state, nonce }, or null once expired or altered
 */
export function sealValue(key: Buffer, value: unknown, ttlMs: number, now = Date.now()): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const plain = Buffer.from(JSON.stringify({ value, until: now + ttlMs }))
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')
}

/** The value sealed in `text`; null when it was not sealed with this key, was altered, or has expired. */
export function unsealValue(key: Buffer, text: string, now = Date.now()): unknown {
  const raw = Buffer.from(text, 'base64url')
  if (raw.length <= IV_BYTES + TAG_BYTES) return null
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
    const { value, until } = JSON.parse(plain.toString('utf8')) as { value: unknown; until: number }
    return now < until ? value : null
  } catch {
    // A wrong tag (altered, or another key) fails in final(): to the caller it is simply not ours.
    return null
  }
}
