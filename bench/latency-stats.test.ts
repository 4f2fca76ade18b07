import { describe, expect, it } from 'vitest'
import { percentile, summarize } from './latency-stats.ts'

describe('percentile', () => {
  it('is the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1) // 1..100
    expect(percentile(sorted, 50)).toBe(50)
    expect(percentile(sorted, 90)).toBe(90)
    expect(percentile(sorted, 99)).toBe(99)
    expect(percentile(sorted, 100)).toBe(100)
    expect(percentile(sorted, 0)).toBe(1)
  })

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN()
  })
})

describe('summarize', () => {
  it('sorts, keeps microseconds and counts', () => {
    expect(summarize([3.2004, 1.1, 2.5, 10])).toEqual({ count: 4, p50Ms: 2.5, p90Ms: 10, p99Ms: 10, maxMs: 10 })
    expect(summarize([0.12345]).p50Ms).toBe(0.123)
  })
})
