/**
 * The dispatcher's job queue: higher priority first, first in first out
 * within a priority. Priorities are small integers (a JobSpec's 0–9), so the
 * queue is one FIFO bucket per priority and every operation is O(1) (O(levels)
 * at worst to find the highest non-empty bucket). Buckets are doubly linked
 * lists so that a cancelled job leaves the queue in O(1) through its handle.
 */

/** Where an item sits in the queue; pass it to `remove`. */
export interface QueueHandle<T> {
  readonly item: T
  readonly priority: number
}

interface Node<T> extends QueueHandle<T> {
  prev: Node<T> | null
  next: Node<T> | null
  /** Cleared when the node leaves the queue, so a stale handle is harmless. */
  queued: boolean
}

interface Bucket<T> {
  head: Node<T> | null
  tail: Node<T> | null
}

/**
 * @example
 *   const q = new PriorityQueue<string>(10)
 *   q.push('low', 0); q.push('high', 9)
 *   q.shift() // 'high'
 */
export class PriorityQueue<T> {
  private readonly buckets: Bucket<T>[]
  /** Index of the highest bucket that may be non-empty; lowered lazily by shift. */
  private top = -1
  private count = 0
  /** Items per priority, for the queue-depth gauge. */
  private readonly counts: number[]

  /** `levels` priorities, 0 to levels - 1. */
  constructor(readonly levels: number) {
    this.buckets = Array.from({ length: levels }, () => ({ head: null, tail: null }))
    this.counts = Array.from({ length: levels }, () => 0)
  }

  get size(): number {
    return this.count
  }

  /** How many items wait at each priority (index = priority). */
  sizes(): readonly number[] {
    return this.counts
  }

  /** Queues an item behind the others of its priority. */
  push(item: T, priority: number): QueueHandle<T> {
    const bucket = this.bucket(priority)
    const node: Node<T> = { item, priority, prev: bucket.tail, next: null, queued: true }
    if (bucket.tail) bucket.tail.next = node
    else bucket.head = node
    bucket.tail = node
    return this.added(node)
  }

  /** Queues an item ahead of the others of its priority (a job that already waited its turn). */
  unshift(item: T, priority: number): QueueHandle<T> {
    const bucket = this.bucket(priority)
    const node: Node<T> = { item, priority, prev: null, next: bucket.head, queued: true }
    if (bucket.head) bucket.head.prev = node
    else bucket.tail = node
    bucket.head = node
    return this.added(node)
  }

  /** Takes the next item: highest priority, oldest first. */
  shift(): T | undefined {
    while (this.top >= 0) {
      const node = this.buckets[this.top]!.head
      if (node) {
        this.unlink(node)
        return node.item
      }
      this.top--
    }
    return undefined
  }

  /** Removes a queued item; false if it already left the queue. */
  remove(handle: QueueHandle<T>): boolean {
    const node = handle as Node<T>
    if (!node.queued) return false
    this.unlink(node)
    return true
  }

  private bucket(priority: number): Bucket<T> {
    const bucket = this.buckets[priority]
    if (!bucket || !Number.isInteger(priority)) throw new RangeError(`priority ${priority} is outside 0..${this.levels - 1}`)
    return bucket
  }

  private added(node: Node<T>): Node<T> {
    this.count++
    this.counts[node.priority]!++
    if (node.priority > this.top) this.top = node.priority
    return node
  }

  private unlink(node: Node<T>): void {
    const bucket = this.buckets[node.priority]!
    if (node.prev) node.prev.next = node.next
    else bucket.head = node.next
    if (node.next) node.next.prev = node.prev
    else bucket.tail = node.prev
    node.prev = node.next = null
    node.queued = false
    this.count--
    this.counts[node.priority]!--
  }
}
