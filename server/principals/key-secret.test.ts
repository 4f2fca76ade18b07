/**
 * Key secrets: their shape, that the hash is of the whole secret, and that
 * the shape check refuses anything else before a store is asked.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashKeySecret, looksLikeKeySecret, newKeySecret } from './key-secret.ts'

describe('key secrets', () => {
  it('makes secret and publishable secrets with their prefixes, 32 random bytes each', () => {
    const secret = newKeySecret('secret')
    const publishable = newKeySecret('publishable')
    expect(secret.secret).toMatch(/^cg_sk_[A-Za-z0-9_-]{43}$/)
    expect(publishable.secret).toMatch(/^cg_pk_[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(secret.secret.slice(6), 'base64url')).toHaveLength(32)
    expect(secret.prefix).toBe(secret.secret.slice(0, 12))
    expect(publishable.prefix.startsWith('cg_pk_')).toBe(true)
  })

  it('never makes the same secret twice', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => newKeySecret('secret').secret))
    expect(secrets.size).toBe(1000)
  })

  it('hashes the whole secret with SHA-256, the same way every time', () => {
    const { secret, hash } = newKeySecret('secret')
    expect(hash).toBe(createHash('sha256').update(secret).digest('hex'))
    expect(hashKeySecret(secret)).toBe(hash)
    expect(hashKeySecret(`${secret.slice(0, -1)}x`)).not.toBe(hash)
  })

  it('recognises only the shape of a secret', () => {
    expect(looksLikeKeySecret(newKeySecret('secret').secret)).toBe(true)
    expect(looksLikeKeySecret(newKeySecret('publishable').secret)).toBe(true)
    const body = 'A'.repeat(43)
    for (const s of ['', `cg_sk_${body}A`, `cg_sk_${body.slice(1)}`, `cg_xk_${body}`, `cg_sk_${body.slice(1)}=`, `cg_sk_${body.slice(1)}/`,
      `CG_SK_${body}`, ` cg_sk_${body.slice(1)}`, `cg_sk_${'A'.repeat(1_000_000)}`]) {
      expect(looksLikeKeySecret(s)).toBe(false)
    }
  })
})
