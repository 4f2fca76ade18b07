/**
 * What one cell may ask of the host, counted as its calls arrive: outputs
 * (how many, and their bytes as output-bytes.ts counts them, the result's
 * text and JSON included), timers (set in all, and pending at once), and
 * calls of any kind. The prelude keeps the same counts and stops posting
 * past them (isolate/emit.ts, isolate/timers.ts), so a flood stops where it
 * starts; this is the host's check that it did, since the isolate is the
 * cell's to break.
 *
 * Why every call is counted: the cell's calls are queued to the host's
 * thread, and isolated-vm runs that queue until it is empty before the
 * host's event loop runs again. A cell that posts faster than the host
 * takes its calls holds the whole sandbox process there: no timer of any
 * slot fires (not even the wall limit's), and the queue grows by about
 * 650 bytes a call. Bounded counts bound that stall and that memory.
 */
import { jsonBytes, outputCost, type Limits } from '../protocol/index.ts'
import { MAX_PENDING_TIMERS, MAX_TIMER_CALLS } from './isolate/timers.ts'

/** A limit broken: the job's error. */
export interface Breach {
  name: 'OutputLimitExceeded' | 'TimerLimitExceeded' | 'HostCallLimitExceeded'
  message: string
}

/**
 * Calls a cell's prelude makes at most: its outputs and the one past them,
 * a set and a clear per timer and the one past them, a result and an error.
 */
function maxCalls(limits: Limits): number {
  return limits.outputs + 1 + 2 * (MAX_TIMER_CALLS + 1) + 2
}

export class HostBudget {
  /** Bytes counted toward limits.outputBytes so far: the job's usage.outputBytes. */
  outputBytes = 0
  #outputs = 0
  #timers = 0
  #calls = 0
  readonly #limits: Limits

  constructor(limits: Limits) {
    this.#limits = limits
  }

  /** Every call, before it is looked at. */
  call(): Breach | undefined {
    if (++this.#calls <= maxCalls(this.#limits)) return undefined
    return { name: 'HostCallLimitExceeded', message: `the cell made more than ${maxCalls(this.#limits)} calls to the sandbox, so it was stopped` }
  }

  /** One output of `data`, as it is sent (a long one counts once per chunk); one over a limit is not counted, as it is not sent. */
  output(data: string): Breach | undefined {
    if (this.#outputs >= this.#limits.outputs) {
      return { name: 'OutputLimitExceeded', message: `the cell made more than its limit of ${this.#limits.outputs} outputs, so it was stopped` }
    }
    const breach = this.#add(outputCost(data))
    if (breach === undefined) this.#outputs++
    return breach
  }

  /**
   * The result's text and JSON count like output. JSON that would take the
   * cell over its limit is left out (the text still shows the value); text
   * that would is a breach.
   *
   * @example budget.result("'x'", '"x"') // { json: '"x"' }, or { json: undefined } without room for it
   */
  result(text: string, json: string | undefined): { breach?: Breach; json?: string } {
    const breach = this.#add(jsonBytes(text))
    if (breach !== undefined) return { breach }
    if (json === undefined || this.#add(Buffer.byteLength(json)) !== undefined) return {}
    return { json }
  }

  /** A timer set; `pending` counts it. */
  timer(pending: number): Breach | undefined {
    if (++this.#timers > MAX_TIMER_CALLS) {
      return { name: 'TimerLimitExceeded', message: `the cell set more than ${MAX_TIMER_CALLS} timers, so it was stopped` }
    }
    if (pending > MAX_PENDING_TIMERS) {
      return { name: 'TimerLimitExceeded', message: `the cell had more than ${MAX_PENDING_TIMERS} timers pending, so it was stopped` }
    }
    return undefined
  }

  /** Counts `bytes` if they fit in what is left of outputBytes. */
  #add(bytes: number): Breach | undefined {
    const limit = this.#limits.outputBytes
    if (this.outputBytes + bytes > limit) {
      return { name: 'OutputLimitExceeded', message: `the cell's output went over its limit of ${limit} bytes, so the cell was stopped` }
    }
    this.outputBytes += bytes
    return undefined
  }
}
