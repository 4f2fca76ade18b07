/**
 * setTimeout/setInterval for a cell, kept by the host: the isolate holds the
 * callbacks, the host holds the clocks (so timers end with the job, and the
 * job knows when none are left). Ids are numbers, as in browsers. The host
 * fires every timer that is due in one call (host-timers.ts says when).
 */
import type { Post } from './wire.ts'

/** More pending timers than this is a runaway loop, not a program: setTimeout throws a RangeError. */
export const MAX_PENDING_TIMERS = 10_000
/**
 * Timers one cell may set in all (setTimeout and setInterval calls). Each is
 * a call to the host; a loop that sets and clears timers would otherwise
 * post them without end. The call past it is still posted, and the host
 * ends the cell `error TimerLimitExceeded` on it.
 */
export const MAX_TIMER_CALLS = 20_000
const TIMEOUT_MAX = 2 ** 31 - 1

interface Timer {
  callback: (...args: unknown[]) => void
  args: unknown[]
  repeat: boolean
}

export interface Timers {
  globals: Record<string, (...args: never[]) => unknown>
  /** Runs the due timers in order; an exception in one is reported through `fail`, and the others still run. */
  fire(ids: Uint32Array): void
}

export function createTimers(post: Post, fail: (error: unknown) => void): Timers {
  const pending = new Map<number, Timer>()
  let lastId = 0

  const set = (repeat: boolean) => (callback: unknown, delay?: unknown, ...args: unknown[]): number => {
    if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be a function')
    if (pending.size >= MAX_PENDING_TIMERS) throw new RangeError(`more than ${MAX_PENDING_TIMERS} pending timers`)
    if (lastId > MAX_TIMER_CALLS) throw new RangeError(`more than ${MAX_TIMER_CALLS} timers set by this cell`)
    const id = ++lastId
    pending.set(id, { callback: callback as Timer['callback'], args, repeat })
    post('timer', id, delayOf(delay), repeat)
    return id
  }
  const clear = (id: unknown): void => {
    const key = Number(id)
    if (pending.delete(key)) post('clear', key)
  }

  return {
    globals: { setTimeout: set(false), setInterval: set(true), clearTimeout: clear, clearInterval: clear },
    fire(ids) {
      // By index: an iterator is the cell's to replace.
      for (let i = 0; i < ids.length; i++) {
        const timer = pending.get(ids[i]!)
        if (timer === undefined) continue
        if (!timer.repeat) pending.delete(ids[i]!)
        try {
          timer.callback(...timer.args)
        } catch (error) {
          fail(error)
        }
      }
    },
  }
}

/** Node's rule: not a number, below 1 or above 2^31-1 means 1 ms. */
function delayOf(delay: unknown): number {
  const ms = Number(delay)
  return ms >= 1 && ms <= TIMEOUT_MAX ? Math.trunc(ms) : 1
}
