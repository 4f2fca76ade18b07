/**
 * A cell's timers as the host keeps them (the callbacks stay in the
 * isolate, isolate/timers.ts). However many timers a cell has, it costs
 * the host one Node timer, set for the earliest that is due, and one call
 * into the isolate per wake, which fires every timer due by then:
 *
 *   set(id, delay) ──> table of {dueAt, delay, repeat}; one Node timer at the earliest dueAt
 *   wake ──> due ids, in order of dueAt ──> fire([ids]) ──> one enter('fire', …ids)
 *   that call returns ──> intervals among them armed again: dueAt = now + delay
 *
 * Why: each call into an isolate costs the host's thread tens of
 * microseconds, and it is the thread every slot shares. 9,990 intervals of
 * 1 ms, a call each, took other clients' cells from 4 to 177 ms at p50. So
 * a cell's timer calls are bounded instead of its timers: one in flight at
 * a time, and one at most every MIN_FIRE_GAP_MS (browsers clamp nested
 * timers to 4 ms too). A timer is never late by more than that gap plus the
 * time its cell's earlier timers take; timers due together run in one call,
 * so promise callbacks one of them queues run after all of them.
 */

/** Calls into one cell's isolate for its timers are at least this far apart, in ms. */
export const MIN_FIRE_GAP_MS = 4
/** Node may wake a timer up to a millisecond early (it rounds delays to whole ms). */
const EARLY_MS = 1

interface Entry {
  /** performance.now() when it is due; Infinity for an interval whose callback is running. */
  dueAt: number
  delayMs: number
  repeat: boolean
}

/** Runs the due timers `ids` in the isolate, then `afterwards` once that call has returned. */
export type FireTimers = (ids: number[], afterwards: () => void) => void

export class CellTimers {
  readonly #entries = new Map<number, Entry>()
  readonly #fire: FireTimers
  #wake: NodeJS.Timeout | undefined
  #wakeAt = Infinity
  #lastFireAt = -Infinity
  #inFlight = false

  constructor(fire: FireTimers) {
    this.#fire = fire
  }

  /** Timers set and not yet run or cleared (intervals until cleared). */
  get size(): number {
    return this.#entries.size
  }

  /**
   * @example
   *   timers.set(1, 100, false) // fires timer 1 in about 100 ms
   */
  set(id: number, delayMs: number, repeat: boolean): void {
    const entry = { dueAt: performance.now() + delayMs, delayMs, repeat }
    this.#entries.set(id, entry)
    this.#schedule(entry.dueAt)
  }

  /** A wake set for it finds nothing due and sleeps until the next. */
  clear(id: number): void {
    this.#entries.delete(id)
  }

  dispose(): void {
    clearTimeout(this.#wake)
    this.#entries.clear()
  }

  #schedule(at: number): void {
    if (this.#inFlight) return // the call's return schedules the next wake
    const when = Math.max(at, this.#lastFireAt + MIN_FIRE_GAP_MS)
    if (when >= this.#wakeAt) return
    clearTimeout(this.#wake)
    this.#wakeAt = when
    this.#wake = setTimeout(() => this.#onWake(), Math.max(0, Math.ceil(when - performance.now())))
  }

  #onWake(): void {
    this.#wake = undefined
    this.#wakeAt = Infinity
    const now = performance.now()
    const due: [number, Entry][] = []
    for (const item of this.#entries) if (item[1].dueAt <= now + EARLY_MS) due.push(item)
    if (due.length === 0) return this.#scheduleEarliest()
    // Intervals armed together stay in order: sorting 10,000 of them on every wake cost the host a millisecond.
    if (!inOrder(due)) due.sort(byDue)
    for (const [id, entry] of due) {
      if (entry.repeat) entry.dueAt = Infinity
      else this.#entries.delete(id)
    }
    this.#lastFireAt = now
    this.#inFlight = true
    this.#fire(
      due.map(([id]) => id),
      () => {
        this.#inFlight = false
        // An interval runs again `delay` after its callback returned, so a slow one does not pile up calls.
        const after = performance.now()
        for (const [id, entry] of due) if (entry.repeat && this.#entries.get(id) === entry) entry.dueAt = after + entry.delayMs
        this.#scheduleEarliest()
      },
    )
  }

  #scheduleEarliest(): void {
    let earliest = Infinity
    for (const entry of this.#entries.values()) if (entry.dueAt < earliest) earliest = entry.dueAt
    if (earliest !== Infinity) this.#schedule(earliest)
  }
}

function byDue(a: [number, Entry], b: [number, Entry]): number {
  return a[1].dueAt - b[1].dueAt || a[0] - b[0]
}

function inOrder(due: [number, Entry][]): boolean {
  for (let i = 1; i < due.length; i++) if (byDue(due[i - 1]!, due[i]!) > 0) return false
  return true
}
