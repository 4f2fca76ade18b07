/**
 * Sealed values come back as they were sealed, and only so: not under
 * another key, not altered in any byte, not after they expire.
 */
import { describe, expect, it } from 'vitest'
import { sealingKey, sealValue, unsealValue } from './sealed-value.ts'

const key = sealingKey('a client secret of some length', 'oidc login flow')

describe('sealed values', () => {
  it('unseal to what was sealed, and hide it', () => {
    const sealed = sealValue(key, { state: 'the-state', nonce: 'n' }, 60_000, 1_000)
    expect(unsealValue(key, sealed, 2_000)).toEqual({ state: 'the-state', nonce: 'n' })
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('the-state')
  })

  it('refuse another key, another purpose, any altered byte, garbage and an expired value', () => {
    const sealed = sealValue(key, 'v', 60_000, 1_000)
    expect(unsealValue(sealingKey('another secret entirely', 'oidc login flow'), sealed, 2_000)).toBeNull()
    expect(unsealValue(sealingKey('a client secret of some length', 'another purpose'), sealed, 2_000)).toBeNull()
    const raw = Buffer.from(sealed, 'base64url')
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw)
      altered[i] = altered[i]! ^ 1
      expect(unsealValue(key, altered.toString('base64url'), 2_000), `byte ${i}`).toBeNull()
    }
    expect(unsealValue(key, 'not sealed at all', 2_000)).toBeNull()
    expect(unsealValue(key, sealed, 61_000)).toBeNull()
  })
})
