/**
 * The fair queue on its own: higher priority first, accounts taking turns
 * within a priority, FIFO within an account, O(1) removal through handles,
 * unshift for jobs that already had their turn; and, for any sequence of
 * pushes, shifts and removals, the round-robin bound and no item lost or
 * given twice.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FairQueue, type QueueHandle } from './fair-queue.ts'

function drain<T>(q: FairQueue<T>): T[] {
  const out: T[] = []
  for (let item = q.shift(); item !== undefined; item = q.shift()) out.push(item)
  return out
}

describe('FairQueue', () => {
  it('gives higher priorities first and keeps submission order within one account', () => {
    const q = new FairQueue<string>(10)
    q.push('a0', 0, 'A')
    q.push('b5', 5, 'A')
    q.push('c0', 0, 'A')
    q.push('d9', 9, 'A')
    q.push('e5', 5, 'A')
    expect(q.size).toBe(5)
    expect(drain(q)).toEqual(['d9', 'b5', 'e5', 'a0', 'c0'])
    expect(q.size).toBe(0)
    expect(q.shift()).toBeUndefined()
  })

  it('lets the accounts of one priority take turns, one item each', () => {
    const q = new FairQueue<string>(10)
    for (const item of ['a1', 'a2', 'a3', 'a4']) q.push(item, 5, 'A')
    q.push('b1', 5, 'B')
    q.push('b2', 5, 'B')
    q.push('c1', 5, 'C')
    expect(drain(q)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4'])
  })

  it('serves an account that arrives behind a backlog after one more item of it', () => {
    const q = new FairQueue<string>(10)
    for (let i = 1; i <= 64; i++) q.push(`a${i}`, 5, 'A')
    expect(q.shift()).toBe('a1')
    q.push('b1', 5, 'B')
    expect([q.shift(), q.shift(), q.shift()]).toEqual(['a2', 'b1', 'a3'])
  })

  it('keeps priorities apart: an account\'s turn at one priority is not a turn at another', () => {
    const q = new FairQueue<string>(10)
    q.push('a-low', 1, 'A')
    q.push('b-low', 1, 'B')
    q.push('a-high', 8, 'A')
    expect(drain(q)).toEqual(['a-high', 'a-low', 'b-low'])
  })

  it('takes new higher items after lower ones were served', () => {
    const q = new FairQueue<string>(10)
    q.push('high', 8, 'A')
    expect(q.shift()).toBe('high')
    q.push('low', 1, 'A')
    q.push('mid', 4, 'B')
    expect(drain(q)).toEqual(['mid', 'low'])
  })

  it('removes an item from anywhere through its handle, once; an account left empty loses its turns', () => {
    const q = new FairQueue<string>(10)
    const a = q.push('a', 3, 'A')
    const b = q.push('b', 3, 'B')
    const c = q.push('c', 3, 'A')
    expect(q.remove(b)).toBe(true)
    expect(q.remove(b)).toBe(false)
    expect(q.size).toBe(2)
    expect(q.remove(a)).toBe(true)
    expect(drain(q)).toEqual(['c'])
    expect(q.remove(c)).toBe(false)
    // B's queue went with its last item: coming back, it takes the last turn.
    q.push('a2', 3, 'A')
    q.push('b2', 3, 'B')
    expect(drain(q)).toEqual(['a2', 'b2'])
  })

  it('unshift puts an item first in its account and gives its account the turn back', () => {
    const q = new FairQueue<string>(10)
    q.push('a1', 2, 'A')
    q.push('a2', 2, 'A')
    q.push('b1', 2, 'B')
    q.push('higher', 3, 'C')
    expect(q.shift()).toBe('higher')
    expect(q.shift()).toBe('a1') // A's turn: A goes behind B
    q.unshift('a1', 2, 'A') // its sandbox died before starting it
    expect(drain(q)).toEqual(['a1', 'b1', 'a2'])
  })

  it('unshift of an account with nothing queued gives it the next turn', () => {
    const q = new FairQueue<string>(10)
    q.push('b1', 2, 'B')
    q.push('b2', 2, 'B')
    q.unshift('a1', 2, 'A')
    expect(drain(q)).toEqual(['a1', 'b1', 'b2'])
  })

  it('refuses a priority outside its levels', () => {
    const q = new FairQueue<string>(10)
    expect(() => q.push('x', 10, 'A')).toThrow(RangeError)
    expect(() => q.push('x', 1.5, 'A')).toThrow(RangeError)
    expect(() => q.unshift('x', -1, 'A')).toThrow(RangeError)
    expect(q.size).toBe(0)
  })

  it('counts the items waiting at each priority as they come and go', () => {
    const q = new FairQueue<string>(3)
    const a = q.push('a', 0, 'A')
    q.push('b', 2, 'A')
    q.unshift('c', 2, 'B')
    expect(q.sizes()).toEqual([1, 0, 2])
    q.shift()
    q.remove(a)
    q.remove(a)
    expect(q.sizes()).toEqual([0, 0, 1])
  })
})

type Op = { kind: 'push'; account: string; priority: number } | { kind: 'shift' } | { kind: 'remove'; pick: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), account: fc.constantFrom('A', 'B', 'C', 'D'), priority: fc.constantFrom(2, 5) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'shift' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
)

interface Item {
  n: number
  account: string
  priority: number
}

/** The queue a (priority, account) pair has: the unit that takes turns. */
const keyOf = (item: Item) => `${item.priority}/${item.account}`

describe('FairQueue, for any sequence of pushes, shifts and removals', () => {
  it('serves the highest priority, FIFO per account, no account more than once while another waits for its turn, and every item once', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const q = new FairQueue<Item>(10)
        const queued: { item: Item; handle: QueueHandle<Item> }[] = []
        // For each waiting (priority, account): how often each other one was served since it was last served or began waiting.
        const servedWhileWaiting = new Map<string, Map<string, number>>()
        const pushed: Item[] = []
        const out: Item[] = []

        const served = (item: Item) => {
          const key = keyOf(item)
          const oldest = queued.findIndex((q) => keyOf(q.item) === key)
          expect(queued[oldest]!.item).toBe(item)
          expect(item.priority).toBe(Math.max(...queued.map((q) => q.item.priority)))
          queued.splice(oldest, 1)
          for (const [waiting, counts] of servedWhileWaiting) {
            if (waiting === key || !waiting.startsWith(`${item.priority}/`)) continue
            const times = (counts.get(key) ?? 0) + 1
            expect(times, `${waiting} waited behind ${times} items of ${key}`).toBeLessThanOrEqual(1)
            counts.set(key, times)
          }
          if (queued.some((q) => keyOf(q.item) === key)) servedWhileWaiting.set(key, new Map())
          else servedWhileWaiting.delete(key)
          out.push(item)
        }

        for (const step of ops) {
          if (step.kind === 'push') {
            const item = { n: pushed.length, account: step.account, priority: step.priority }
            pushed.push(item)
            if (!servedWhileWaiting.has(keyOf(item))) servedWhileWaiting.set(keyOf(item), new Map())
            queued.push({ item, handle: q.push(item, item.priority, item.account) })
          } else if (step.kind === 'shift') {
            const item = q.shift()
            if (queued.length === 0) expect(item).toBeUndefined()
            else served(item!)
          } else if (queued.length > 0) {
            const [gone] = queued.splice(step.pick % queued.length, 1)
            expect(q.remove(gone!.handle)).toBe(true)
            expect(q.remove(gone!.handle)).toBe(false)
            out.push(gone!.item)
            if (!queued.some((q) => keyOf(q.item) === keyOf(gone!.item))) servedWhileWaiting.delete(keyOf(gone!.item))
          }
          expect(q.size).toBe(queued.length)
        }
        for (let item = q.shift(); item !== undefined; item = q.shift()) served(item)
        expect(q.size).toBe(0)
        expect(out.map((item) => item.n).sort((a, b) => a - b)).toEqual(pushed.map((item) => item.n))
      }),
      { numRuns: 500 },
    )
  })
})
