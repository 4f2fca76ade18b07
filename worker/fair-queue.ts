/**
 * The dispatcher's job queue: higher priority first; within one priority,
 * the accounts with queued jobs take turns, one job each (round robin);
 * first in first out within an account. So one account's backlog delays
 * another account's job by at most one job of its own per free slot, however
 * long the backlog is (issue 13, item 3).
 *
 * This is deficit round robin with a quantum of one cell, which is plain
 * round robin. That is enough for now because every account has the same
 * share (tiers do not exist yet) and the dispatcher cannot know what a cell
 * costs before it runs. Weights per tier would enter as a quantum per
 * account and a deficit counter: on its turn an account adds its quantum
 * and is served while the counter is at least one cell (or, charging real
 * cost, while it is positive, minus each ended job's CPU ms); an account
 * whose queue empties drops its counter, as DRR does.
 *
 * Every operation is O(1), O(levels) at worst to find the highest non-empty
 * priority: each priority holds a ring of accounts with queued jobs (a
 * doubly linked list: the head's turn is next), each account a doubly linked
 * list of its jobs, and a handle lets a cancelled job leave in O(1).
 */

/** Where an item sits in the queue; pass it to `remove`. */
export interface QueueHandle<T> {
  readonly item: T
  readonly priority: number
  readonly account: string
}

/** What an intrusive doubly linked list needs of its members. */
interface Linked<N> {
  prev: N | null
  next: N | null
}

interface List<N> {
  head: N | null
  tail: N | null
}

interface Node<T> extends QueueHandle<T>, Linked<Node<T>> {
  readonly queue: AccountQueue<T>
  /** Cleared when the node leaves the queue, so a stale handle is harmless. */
  queued: boolean
}

/** One account's jobs at one priority, and its place in that priority's ring of turns. */
interface AccountQueue<T> extends Linked<AccountQueue<T>>, List<Node<T>> {
  readonly account: string
  readonly level: Level<T>
}

/** One priority: its accounts with queued jobs, the head's turn next. */
interface Level<T> extends List<AccountQueue<T>> {
  readonly priority: number
  readonly accounts: Map<string, AccountQueue<T>>
  count: number
}

/**
 * @example
 *   const q = new FairQueue<string>(10)
 *   q.push('a1', 5, 'A'); q.push('a2', 5, 'A'); q.push('b1', 5, 'B'); q.push('high', 9, 'A')
 *   [q.shift(), q.shift(), q.shift(), q.shift()] // ['high', 'a1', 'b1', 'a2']
 */
export class FairQueue<T> {
  private readonly levels: Level<T>[]
  /** Index of the highest level that may be non-empty; lowered lazily by shift. */
  private top = -1
  private count = 0

  /** `levels` priorities, 0 to levels - 1. */
  constructor(levels: number) {
    this.levels = Array.from({ length: levels }, (_, priority) => ({ priority, head: null, tail: null, accounts: new Map(), count: 0 }))
  }

  get size(): number {
    return this.count
  }

  /** How many items wait at each priority (index = priority), for the queue-depth gauge. */
  sizes(): number[] {
    return this.levels.map((level) => level.count)
  }

  /** Queues an item behind the others of its account; an account with nothing queued takes the last turn of its priority. */
  push(item: T, priority: number, account: string): QueueHandle<T> {
    const queue = this.accountQueue(priority, account, append)
    const node: Node<T> = { item, priority, account, queue, prev: null, next: null, queued: true }
    append(queue, node)
    return this.added(node)
  }

  /**
   * Queues an item ahead of the others of its account, and gives its account
   * the next turn of its priority: the item already had its turn (it was sent
   * to a sandbox that died before starting it), so neither it nor its
   * account goes to the back.
   */
  unshift(item: T, priority: number, account: string): QueueHandle<T> {
    const queue = this.accountQueue(priority, account, prepend)
    if (queue.level.head !== queue) {
      unlink(queue.level, queue)
      prepend(queue.level, queue)
    }
    const node: Node<T> = { item, priority, account, queue, prev: null, next: null, queued: true }
    prepend(queue, node)
    return this.added(node)
  }

  /** Takes the next item: highest priority; within it, the oldest item of the account whose turn it is. */
  shift(): T | undefined {
    while (this.top >= 0) {
      const level = this.levels[this.top]!
      const queue = level.head
      if (queue) {
        const node = queue.head!
        this.unlink(node)
        // Served: to the back of the ring, unless unlink dropped it for being empty.
        if (queue.head && queue.next) {
          unlink(level, queue)
          append(level, queue)
        }
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

  /** The account's queue at this priority, made (and put in the ring with `place`) when it has nothing queued. */
  private accountQueue(priority: number, account: string, place: (list: List<AccountQueue<T>>, queue: AccountQueue<T>) => void): AccountQueue<T> {
    const level = this.levels[priority]
    if (!level || !Number.isInteger(priority)) throw new RangeError(`priority ${priority} is outside 0..${this.levels.length - 1}`)
    let queue = level.accounts.get(account)
    if (!queue) {
      queue = { account, level, head: null, tail: null, prev: null, next: null }
      level.accounts.set(account, queue)
      place(level, queue)
    }
    return queue
  }

  private added(node: Node<T>): Node<T> {
    this.count++
    node.queue.level.count++
    if (node.priority > this.top) this.top = node.priority
    return node
  }

  /** Takes the node out; an account left with nothing queued leaves the ring, so idle accounts cost nothing. */
  private unlink(node: Node<T>): void {
    const { queue } = node
    unlink(queue, node)
    node.queued = false
    this.count--
    queue.level.count--
    if (queue.head === null) {
      unlink(queue.level, queue)
      queue.level.accounts.delete(queue.account)
    }
  }
}

function append<N extends Linked<N>>(list: List<N>, member: N): void {
  member.prev = list.tail
  member.next = null
  if (list.tail) list.tail.next = member
  else list.head = member
  list.tail = member
}

function prepend<N extends Linked<N>>(list: List<N>, member: N): void {
  member.prev = null
  member.next = list.head
  if (list.head) list.head.prev = member
  else list.tail = member
  list.head = member
}

function unlink<N extends Linked<N>>(list: List<N>, member: N): void {
  if (member.prev) member.prev.next = member.next
  else list.head = member.next
  if (member.next) member.next.prev = member.prev
  else list.tail = member.prev
  member.prev = member.next = null
}
