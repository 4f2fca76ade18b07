/**
 * Key secrets: what a caller sends as `Authorization: Bearer …`. A secret
 * is shown once, when its key is made; the store keeps only its SHA-256
 * (indexed, so a request finds its key with one lookup) and a short prefix
 * that lets people tell their keys apart in lists.
 *
 * A plain hash is enough here, unlike for passwords: the secret is 256
 * random bits, so nothing can be guessed from the hash, and the lookup on
 * every request must stay cheap. The shapes are recognisable (`cg_sk_` for
 * secret keys, `cg_pk_` for publishable ones) so a leaked key is easy to
 * spot and a request carrying anything else is refused before the store.
 */
import { createHash, randomBytes } from 'node:crypto'

export type SecretKind = 'secret' | 'publishable'

export interface NewKeySecret {
  /** The whole secret, given to its holder once and never stored. */
  secret: string
  /** SHA-256 hex of the secret: what the store keeps and looks keys up by. */
  hash: string
  /** The first characters of the secret, shown in key lists. */
  prefix: string
}

const PREFIXES: Record<SecretKind, string> = { secret: 'cg_sk_', publishable: 'cg_pk_' }
const RANDOM_BYTES = 32
/** `cg_sk_` and 4 characters of the random part: enough to tell a person's keys apart, far too little to guess the rest. */
export const SHOWN_PREFIX = 12
/** 32 bytes in url-safe base64, without padding. */
const SECRET_SHAPE = /^cg_[sp]k_[A-Za-z0-9_-]{43}$/
const SECRET_LENGTH = 6 + 43

/**
 * @example
 *   const { secret, hash, prefix } = newKeySecret('secret')
 *   // secret 'cg_sk_Q2h…' (49 characters), hash 64 hex digits, prefix 'cg_sk_Q2hM0'
 */
export function newKeySecret(kind: SecretKind): NewKeySecret {
  const secret = PREFIXES[kind] + randomBytes(RANDOM_BYTES).toString('base64url')
  return { secret, hash: hashKeySecret(secret), prefix: secret.slice(0, SHOWN_PREFIX) }
}

/**
 * @example
 *   await store.getKeyByHash(hashKeySecret(bearer))
 */
export function hashKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/**
 * Whether `s` has the shape of a key secret; checked before hashing or any
 * store lookup, so a request with a megabyte of header costs nothing more.
 *
 * @example
 *   looksLikeKeySecret('cg_sk_' + 'A'.repeat(43)) // true
 *   looksLikeKeySecret('Basic abc')               // false
 */
export function looksLikeKeySecret(s: string): boolean {
  return s.length === SECRET_LENGTH && SECRET_SHAPE.test(s)
}
