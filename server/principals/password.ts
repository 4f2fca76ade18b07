/**
 * Passwords of accounts, hashed with scrypt (node:crypto, no native
 * dependency) into one self-describing string, `scrypt$N$r$p$salt$hash`
 * (salt and hash in url-safe base64), so the cost can be raised later and
 * old hashes still verify with the parameters they were made with.
 *
 * N = 2^15, r = 8 takes 32 MiB and tens of milliseconds a hash: slow for
 * whoever guesses, bearable for a login. Both calls are asynchronous (the
 * work runs on libuv's thread pool, not the event loop), and a password's
 * length is bounded so a hostile megabyte-long one cannot burn the CPU.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/** The most characters a password may have; longer ones are refused before any hashing. */
export const MAX_PASSWORD_LENGTH = 1024

const COST = { N: 2 ** 15, r: 8, p: 1 }
const SALT_BYTES = 16
const HASH_BYTES = 32
/** scrypt needs 128·N·r bytes; Node's default ceiling (32 MiB) is exactly that, and a little more is needed. */
const maxmemFor = (N: number, r: number) => 256 * N * r
/** The most a stored hash may ask for, so a tampered or corrupt row cannot make a login allocate gigabytes. */
const MAX_N = 2 ** 20
const MAX_R = 16
const MAX_P = 4

/**
 * @example
 *   const stored = await hashPassword('correct horse battery staple') // 'scrypt$32768$8$1$…$…'
 */
export async function hashPassword(password: string): Promise<string> {
  if (!acceptable(password)) throw new RangeError(`a password has 1 to ${MAX_PASSWORD_LENGTH} characters`)
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(password, salt, HASH_BYTES, COST)
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), hash.toString('base64url')].join('$')
}

/**
 * Whether `password` is the one `stored` was made from. False, never an
 * error, for a password out of bounds or a stored string that is not one
 * of ours; compared in constant time.
 *
 * @example
 *   await verifyPassword('correct horse battery staple', stored) // true
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!acceptable(password)) return false
  const parsed = parse(stored)
  if (!parsed) return false
  const hash = await derive(password, parsed.salt, parsed.hash.length, parsed.cost)
  return timingSafeEqual(hash, parsed.hash)
}

function acceptable(password: string): boolean {
  return typeof password === 'string' && password.length >= 1 && password.length <= MAX_PASSWORD_LENGTH
}

interface Parsed {
  cost: { N: number; r: number; p: number }
  salt: Buffer
  hash: Buffer
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const [N, r, p] = parts.slice(1, 4).map((n) => (/^\d{1,8}$/.test(n) ? Number(n) : NaN)) as [number, number, number]
  // N must be a power of two above 1 (scrypt's own rule).
  if (!(N > 1 && N <= MAX_N && (N & (N - 1)) === 0 && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P)) return null
  const salt = Buffer.from(parts[4]!, 'base64url')
  const hash = Buffer.from(parts[5]!, 'base64url')
  if (salt.length === 0 || hash.length < 16 || hash.length > 64) return null
  return { cost: { N, r, p }, salt, hash }
}

function derive(password: string, salt: Buffer, length: number, { N, r, p }: Parsed['cost']): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: maxmemFor(N, r) }
  return new Promise((resolve, reject) => {
    // NFC: the same password typed on two systems that compose accents differently is the same password.
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}
