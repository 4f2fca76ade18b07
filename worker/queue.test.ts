/**
 * The priority queue on its own: higher priority first, FIFO within a
 * priority, O(1) removal through handles, unshift for jobs that already
 * waited their turn.
 */
import { describe, expect, it } from 'vitest'
import { PriorityQueue } from './queue.ts'

function drain<T>(q: PriorityQueue<T>): T[] {
  const out: T[] = []
  for (let item = q.shift(); item !== undefined; item = q.shift()) out.push(item)
  return out
}

describe('PriorityQueue', () => {
  it('gives higher priorities first and keeps submission order within a priority', () => {
    const q = new PriorityQueue<string>(10)
    q.push('a0', 0)
    q.push('b5', 5)
    q.push('c0', 0)
    q.push('d9', 9)
    q.push('e5', 5)
    expect(q.size).toBe(5)
    expect(drain(q)).toEqual(['d9', 'b5', 'e5', 'a0', 'c0'])
    expect(q.size).toBe(0)
    expect(q.shift()).toBeUndefined()
  })

  it('takes new higher items after lower ones were served', () => {
    const q = new PriorityQueue<string>(10)
    q.push('high', 8)
    expect(q.shift()).toBe('high')
    q.push('low', 1)
    q.push('mid', 4)
    expect(drain(q)).toEqual(['mid', 'low'])
  })

  it('removes an item from anywhere through its handle, once', () => {
    const q = new PriorityQueue<string>(10)
    const a = q.push('a', 3)
    const b = q.push('b', 3)
    const c = q.push('c', 3)
    expect(q.remove(b)).toBe(true)
    expect(q.remove(b)).toBe(false)
    expect(q.remove(a)).toBe(true)
    expect(q.size).toBe(1)
    expect(drain(q)).toEqual(['c'])
    expect(q.remove(c)).toBe(false)
  })

  it('unshift puts an item ahead of its priority', () => {
    const q = new PriorityQueue<string>(10)
    q.push('first', 2)
    q.push('higher', 3)
    q.unshift('again', 2)
    expect(drain(q)).toEqual(['higher', 'again', 'first'])
  })

  it('refuses a priority outside its levels', () => {
    const q = new PriorityQueue<string>(10)
    expect(() => q.push('x', 10)).toThrow(RangeError)
    expect(() => q.push('x', 1.5)).toThrow(RangeError)
  })
})

describe('PriorityQueue.sizes', () => {
  it('counts the items waiting at each priority as they come and go', () => {
    const q = new PriorityQueue<string>(3)
    const a = q.push('a', 0)
    q.push('b', 2)
    q.unshift('c', 2)
    expect(q.sizes()).toEqual([1, 0, 2])
    q.shift()
    q.remove(a)
    q.remove(a)
    expect(q.sizes()).toEqual([0, 0, 1])
  })
})
