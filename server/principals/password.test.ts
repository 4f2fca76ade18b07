/**
 * Password hashing with scrypt: the stored format, verification, salts,
 * the bounds on length, and stored strings that are not ours.
 */
import { scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from './password.ts'

describe('passwords', () => {
  it('stores scrypt with its parameters, a 16-byte salt and the hash, and verifies the same password only', async () => {
    const stored = await hashPassword('correct horse battery staple')
    const [scheme, N, r, p, salt, hash] = stored.split('$')
    expect([scheme, N, r, p]).toEqual(['scrypt', '32768', '8', '1'])
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16)
    expect(Buffer.from(hash!, 'base64url')).toHaveLength(32)
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true)
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false)
    expect(await verifyPassword('Correct horse battery staple', stored)).toBe(false)
  })

  it('salts every hash, so one password never hashes the same twice', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')])
    expect(a).not.toBe(b)
    expect(await verifyPassword('same', a)).toBe(true)
    expect(await verifyPassword('same', b)).toBe(true)
  })

  it('treats composed and decomposed accents as the same password', async () => {
    const stored = await hashPassword('caf\u00e9')
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true)
  })

  it('verifies with the parameters the hash was made with', async () => {
    const stored = await hashPassword('pw')
    const [, , , , salt] = stored.split('$')
    // A hash made with a lower cost (as an older release might have) still verifies.
    const cheap = `scrypt$1024$8$1$${salt}$${scryptSync('pw', Buffer.from(salt!, 'base64url'), 32, { N: 1024, r: 8, p: 1 }).toString('base64url')}`
    expect(await verifyPassword('pw', cheap)).toBe(true)
    expect(await verifyPassword('pW', cheap)).toBe(false)
  })

  it('refuses to hash an empty or too long password, and never verifies one', async () => {
    await expect(hashPassword('')).rejects.toThrow(RangeError)
    await expect(hashPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1))).rejects.toThrow(RangeError)
    const longest = 'x'.repeat(MAX_PASSWORD_LENGTH)
    const stored = await hashPassword(longest)
    expect(await verifyPassword(longest, stored)).toBe(true)
    expect(await verifyPassword(`${longest}x`, stored)).toBe(false)
    expect(await verifyPassword('x'.repeat(1_000_000), stored)).toBe(false)
    expect(await verifyPassword('', stored)).toBe(false)
  })

  it('answers false for stored strings that are not a scrypt hash of ours, or ask for too much', async () => {
    const stored = await hashPassword('pw')
    const parts = stored.split('$')
    const variants = [
      '', 'plain', `bcrypt$${parts.slice(1).join('$')}`, parts.slice(0, 5).join('$'),
      [parts[0], '1000', ...parts.slice(2)].join('$'), // N not a power of two
      [parts[0], String(2 ** 24), ...parts.slice(2)].join('$'), // N beyond the ceiling
      [parts[0], parts[1], '1000', ...parts.slice(3)].join('$'),
      [...parts.slice(0, 5), ''].join('$'),
    ]
    for (const v of variants) expect(await verifyPassword('pw', v)).toBe(false)
  })
})
