/**
 * setTimeout/setInterval for a cell, kept by the host: the isolate holds the
 * callbacks, the host holds the clocks (so timers end with the job, and the
 * job knows when none are left). Ids are numbers, as in browsers.
 */
import type { Post } from './wire.ts'

/** More pending timers than this is a runaway loop, not a program. */
const MAX_TIMERS = 10_000
const TIMEOUT_MAX = 2 ** 31 - 1

interface Timer {
  callback: (...args: unknown[]) => void
  args: unknown[]
  repeat: boolean
}

export interface Timers {
  globals: Record<string, (...args: never[]) => unknown>
  /** Runs a due timer; an exception in it is reported through `fail`. */
  fire(id: number): void
}

export function createTimers(post: Post, fail: (error: unknown) => void): Timers {
  const pending = new Map<number, Timer>()
  let lastId = 0

  const set = (repeat: boolean) => (callback: unknown, delay?: unknown, ...args: unknown[]): number => {
    if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be a function')
    if (pending.size >= MAX_TIMERS) throw new RangeError(`more than ${MAX_TIMERS} pending timers`)
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
    fire(id) {
      const timer = pending.get(id)
      if (timer === undefined) return
      if (!timer.repeat) pending.delete(id)
      try {
        timer.callback(...timer.args)
      } catch (error) {
        fail(error)
      }
    },
  }
}

/** Node's rule: not a number, below 1 or above 2^31-1 means 1 ms. */
function delayOf(delay: unknown): number {
  const ms = Number(delay)
  return ms >= 1 && ms <= TIMEOUT_MAX ? Math.trunc(ms) : 1
}
