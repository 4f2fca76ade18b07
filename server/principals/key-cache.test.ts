/**
 * The key cache's promises, with an injected clock and a lookup that
 * counts: 0 asks every time; otherwise a key is trusted for the TTL (never
 * past its own expiry), a key not found is asked again each time, and
 * forgetTree drops a revoked key and everything below it at once.
 */
import { describe, expect, it } from 'vitest'
import type { KeyRecord } from '../store/principals-port.ts'
import { KeyCache } from './key-cache.ts'
import { fullGrant, type KeyPrincipal } from './principal.ts'

function principal(id: string, ancestors: string[] = [], expiresAt: number | null = null): KeyPrincipal {
  const key = { id, ancestors, grant: fullGrant('user', expiresAt) } as unknown as KeyRecord
  return { kind: 'key', account: { id: 'acc' } as KeyPrincipal['account'], key, grant: key.grant }
}

function counting(found: Record<string, KeyPrincipal>): { lookup: (secret: string) => Promise<KeyPrincipal | null>; asked: string[] } {
  const asked: string[] = []
  return { asked, lookup: async (secret) => (asked.push(secret), found[secret] ?? null) }
}

describe('KeyCache', () => {
  it('asks the store every time with a TTL of 0', async () => {
    const { lookup, asked } = counting({ a: principal('A') })
    const cache = new KeyCache(0, lookup)
    for (let i = 0; i < 3; i++) expect((await cache.resolve('a'))?.key.id).toBe('A')
    expect(asked).toHaveLength(3)
  })

  it('trusts a key for the TTL, never past its expiry, and never caches a miss', async () => {
    let now = 1_000
    const { lookup, asked } = counting({ a: principal('A'), e: principal('E', [], 1_500) })
    const cache = new KeyCache(1_000, lookup, () => now)
    await cache.resolve('a')
    await cache.resolve('a')
    expect(asked).toEqual(['a'])
    now = 2_001
    await cache.resolve('a')
    expect(asked).toEqual(['a', 'a'])

    now = 1_000
    await cache.resolve('e')
    now = 1_500
    await cache.resolve('e')
    expect(asked.filter((s) => s === 'e')).toHaveLength(2)

    for (let i = 0; i < 3; i++) expect(await cache.resolve('nobody')).toBeNull()
    expect(asked.filter((s) => s === 'nobody')).toHaveLength(3)
  })

  it('forgets a revoked key and its descendants at once, keeping the rest', async () => {
    const { lookup, asked } = counting({ root: principal('R'), mid: principal('M', ['R']), leaf: principal('L', ['R', 'M']), other: principal('O') })
    const cache = new KeyCache(5_000, lookup, () => 0)
    for (const secret of ['root', 'mid', 'leaf', 'other']) await cache.resolve(secret)
    cache.forgetTree('M')
    for (const secret of ['root', 'mid', 'leaf', 'other']) await cache.resolve(secret)
    expect(asked.slice(4)).toEqual(['mid', 'leaf'])
  })
})
