/**
 * Runs one job in a fresh context of a slot's isolate and reports how it
 * ended. The context gets the prelude (console, display, timers), then the
 * cell; outputs are handed on as they arrive. The job ends when its main
 * evaluation has settled and no timer is pending (as a Node script ends),
 * or when it breaks a limit:
 *
 *   wallMs       a host timer from the start          -> timeout  WallTimeExceeded
 *   cpuMs        isolate.cpuTime, polled              -> timeout  CpuLimitExceeded
 *   memoryMb     its heap read from the host (memory-watch.ts), -> error  MemoryLimitExceeded
 *                what it holds outside the heap (isolate/memory-ledger.ts),
 *                ArrayBuffers at the isolate's V8 limit (engine.ts)
 *   outputBytes  output and result bytes (host-budget.ts) -> error OutputLimitExceeded
 *   outputs      outputs made                          -> error    OutputLimitExceeded
 *   timers       set in all / pending (host-budget.ts) -> error    TimerLimitExceeded
 *
 * The time limits are also checked as the cell's calls arrive: while a
 * cell floods the host with calls, the host's timers cannot fire (see
 * host-budget.ts), and the budget bounds how long that lasts.
 *
 * Code still running when a job must end is stopped by disposing the
 * isolate: it is the one thing that ends a loop anywhere (main code,
 * promise callbacks, timer callbacks). The slot makes a new isolate.
 *
 * A cell of a session runs in the session's context, which outlives it.
 * Disposing the isolate would take that context along, so its calls into
 * the isolate carry isolated-vm's `timeout` (what is left of its wall and
 * CPU time), which stops running code and leaves the isolate usable: a
 * session cell past a time or output limit ends and its session lives on.
 * Only a cancel while its code runs (nothing else can stop it at once) and
 * running out of memory end the session (see session-slot.ts): a heap past
 * its limit is the context's, so only disposing the isolate frees it.
 */
import ivm from 'isolated-vm'
import { MAX_OUTPUT_CHUNK, type CellError, type CellResult, type RunJob, type OutputBody, type Usage } from '../protocol/index.ts'
import { cellError, clipCellError } from './cell-error.ts'
import type { Engine } from './engine.ts'
import { HostBudget, type Breach } from './host-budget.ts'
import { readHostCall } from './host-call.ts'
import { CellTimers } from './host-timers.ts'
import { MemoryWatch } from './memory-watch.ts'
import type { Enter, EnterCall, HostCall } from './isolate/wire.ts'
import { prepareCell, type PreparedCell } from './transform.ts'

/** How often CPU time is checked against the job's cpuMs. */
const CPU_POLL_MS = 25
/** A session call's timeout counts from when the call starts running, a little after it was made. */
const WALL_SLACK_MS = 5
/** What isolated-vm rejects a call with when its `timeout` stopped it. */
const TIMED_OUT = 'Script execution timed out.'
/** While calls arrive, CPU time is read every this many of them (a reading costs about a microsecond). */
const CPU_CHECK_EVERY_CALLS = 256
/**
 * V8's RangeError when isolated-vm's allocator refuses an ArrayBuffer: the
 * isolate's buffers reached its V8 limit (engine.ts), far past the cell's.
 */
const ALLOCATOR_REFUSED = 'Array buffer allocation failed'

export type CellStatus = 'done' | 'error' | 'timeout' | 'cancelled'

export interface CellEnd {
  status: CellStatus
  result?: CellResult
  error?: CellError
  usage: Usage
}

/** A context with the prelude's `enter` already run in it. */
export interface PreparedContext {
  context: ivm.Context
  enter: ivm.Reference<Enter>
}

/** A context that outlives its cells: the session's. */
export type SessionScope = PreparedContext

export interface RunningCell {
  /** Resolves once, when the job has ended and its context is gone. */
  readonly ended: Promise<CellEnd>
  cancel(): void
}

interface Outcome {
  status: CellStatus
  result?: CellResult
  error?: CellError
}

/**
 * `fresh`, for a one-off cell: a context made for it ahead of time (see
 * Slot.prepareNext), never used by another job; without it the context is made here.
 *
 * @example
 *   const cell = runCell(engine, job, (output) => send(output))
 *   const end = await cell.ended // { status: 'done', result: { text: '2', json: 2 }, usage }
 */
export function runCell(engine: Engine, job: RunJob, onOutput: (output: OutputBody) => void, scope?: SessionScope, fresh?: PreparedContext): RunningCell {
  return new CellRun(engine, job, onOutput, scope, fresh)
}

/**
 * A fresh context of the engine's isolate with the prelude run in it.
 *
 * @example
 *   const fresh = prepareContext(engine) // later: runCell(engine, job, onOutput, undefined, fresh)
 */
export function prepareContext(engine: Engine): PreparedContext {
  const context = engine.isolate.createContextSync()
  try {
    return { context, enter: engine.prelude.runSync(context, { reference: true }) as ivm.Reference<Enter> }
  } catch (error) {
    context.release()
    throw error
  }
}

class CellRun implements RunningCell {
  readonly ended: Promise<CellEnd>
  #resolve!: (end: CellEnd) => void
  readonly #engine: Engine
  readonly #isolate: ivm.Isolate
  readonly #job: RunJob
  readonly #onOutput: (output: OutputBody) => void
  readonly #prepared: PreparedCell
  readonly #startedAt = performance.now()
  readonly #cpuAtStart: bigint
  #cpuNs = 0n
  #context: ivm.Context | undefined
  #enter: ivm.Reference<Enter> | undefined
  /** The session's context, kept when the cell ends; undefined for a cell in a fresh context. */
  readonly #scope: SessionScope | undefined
  /** Calls into the isolate not yet returned; the isolate is idle at 0. */
  #busy = 0
  readonly #timers: CellTimers
  readonly #budget: HostBudget
  #calls = 0
  /** The main evaluation's result: undefined while it runs, null when it gave `undefined`. */
  #main: CellResult | null | undefined
  #failure: Outcome | undefined
  #done = false
  readonly #wallTimer: NodeJS.Timeout
  readonly #cpuTimer: NodeJS.Timeout
  readonly #memory: MemoryWatch

  constructor(engine: Engine, job: RunJob, onOutput: (output: OutputBody) => void, scope: SessionScope | undefined, fresh: PreparedContext | undefined) {
    this.ended = new Promise((resolve) => (this.#resolve = resolve))
    this.#engine = engine
    this.#isolate = engine.isolate
    this.#job = job
    this.#onOutput = onOutput
    this.#scope = scope
    this.#cpuAtStart = engine.isolate.cpuTime
    this.#prepared = prepareCell(job.code, { session: scope !== undefined })
    this.#budget = new HostBudget(job.limits)
    // The ids arrive in the isolate as a Uint32Array, copied in one piece (isolate/wire.ts).
    const fire = (ids: number[], afterwards: () => void): void =>
      this.#call(['fire', new ivm.ExternalCopy(Uint32Array.from(ids)).copyInto({ release: true }) as never], afterwards)
    this.#timers = new CellTimers(fire)
    this.#wallTimer = setTimeout(() => this.#stop('timeout', ...this.#wallExceeded()), job.limits.wallMs)
    this.#cpuTimer = setInterval(() => this.#checkCpu(), CPU_POLL_MS)
    this.#memory = new MemoryWatch(engine, job.limits.memoryMb * 2 ** 20, () => this.#outOfMemory())
    try {
      const prepared = scope ?? fresh ?? prepareContext(engine)
      this.#context = prepared.context
      this.#enter = prepared.enter
    } catch (error) {
      this.#crashed(error)
      return
    }
    const post = new ivm.Callback((...call: unknown[]) => this.#onPost(call), { ignored: true })
    // The Callback arrives in the isolate as a plain function: the Post of wire.ts.
    this.#call(['run', post as never, this.#prepared.source, job.limits.outputBytes, job.limits.outputs, job.limits.memoryMb * 2 ** 20])
  }

  cancel(): void {
    this.#stop('cancelled')
  }

  /** `call` as the isolate receives it; its post and ids cross as an ivm.Callback and an ivm.Copy (see the callers). */
  #call(call: EnterCall, afterwards?: () => void): void {
    this.#busy++
    this.#enter!.apply(undefined, call as never, this.#scope && { timeout: this.#timeLeftMs() }).then(
      () => {
        this.#busy--
        if (!this.#done) afterwards?.()
        this.#settle()
      },
      (error: unknown) => {
        this.#busy--
        this.#crashed(error)
      },
    )
  }

  #onPost(args: unknown[]): void {
    if (this.#done) return
    if (this.#breached(this.#budget.call()) || this.#overTime()) return
    const call: HostCall | undefined = readHostCall(args)
    if (call === undefined) return
    switch (call[0]) {
      case 'output':
        return this.#output({ stream: call[1], mime: call[2], data: call[3] })
      case 'timer':
        this.#timers.set(call[1], call[2], call[3])
        this.#breached(this.#budget.timer(this.#timers.size))
        return
      case 'clear':
        this.#timers.clear(call[1])
        return
      case 'result':
        return this.#result(call[1], call[2])
      case 'error':
        // The first error ends the job once the isolate is idle, as an uncaught exception ends a Node script.
        this.#failure ??= {
          status: 'error',
          error: call[2] === ALLOCATOR_REFUSED ? this.#memoryExceeded() : cellError(call[1], call[2], call[3], this.#job.code, this.#prepared.shifts),
        }
        return
      case 'memory':
        // The ledger refused the allocation. A session's context keeps what it had, within its limit, so it lives on.
        if (this.#scope === undefined) return this.#outOfMemory()
        this.#failure = { status: 'error', error: this.#memoryExceeded() }
        return
    }
  }

  /** Each chunk is an output, counted as it is sent; the one over a limit is not sent, and ends the cell. */
  #output(output: OutputBody): void {
    for (const data of chunks(output.data)) {
      if (this.#breached(this.#budget.output(data))) return
      this.#onOutput({ ...output, data })
    }
  }

  #result(text: string | undefined, json: string | undefined): void {
    if (text === undefined) {
      this.#main = null
      return
    }
    const counted = this.#budget.result(text, json)
    if (!this.#breached(counted.breach)) this.#main = resultOf(text, counted.json)
  }

  /** Ends the cell if `breach` is a limit it broke. */
  #breached(breach: Breach | undefined): boolean {
    if (breach === undefined) return false
    this.#stop('error', breach.name, breach.message)
    return true
  }

  /**
   * The time limits, checked as calls arrive: the wall time at each (a
   * clock read), the CPU time every CPU_CHECK_EVERY_CALLS.
   */
  #overTime(): boolean {
    if (performance.now() - this.#startedAt > this.#job.limits.wallMs) {
      this.#stop('timeout', ...this.#wallExceeded())
      return true
    }
    return ++this.#calls % CPU_CHECK_EVERY_CALLS === 0 && this.#checkCpu()
  }

  #checkCpu(): boolean {
    if (this.#cpuUsed() <= BigInt(this.#job.limits.cpuMs) * 1_000_000n) return false
    this.#stop('timeout', ...this.#cpuExceeded())
    return true
  }

  #wallExceeded(): [name: string, message: string] {
    return ['WallTimeExceeded', `the cell ran longer than its wall time limit of ${this.#job.limits.wallMs} ms`]
  }

  #cpuExceeded(): [name: string, message: string] {
    return ['CpuLimitExceeded', `the cell used more than its CPU time limit of ${this.#job.limits.cpuMs} ms`]
  }

  /** After each call into the isolate: end the job if nothing more can happen in it. */
  #settle(): void {
    if (this.#done || this.#busy > 0) return
    if (this.#failure !== undefined) return this.#finish(this.#failure)
    if (this.#timers.size > 0) return
    if (this.#main !== undefined) return this.#finish({ status: 'done', ...(this.#main && { result: this.#main }) })
    // Idle, no timers, main still pending: only the cell's own code could settle it, and none will run.
    this.#finish({
      status: 'error',
      error: { name: 'UnsettledAwait', message: 'the cell awaits a promise that can never settle (no timer is pending)' },
    })
  }

  /**
   * What is left of the cell's wall and CPU time, as the `timeout` of a call
   * into a session's context. While a call runs, CPU time grows no faster
   * than wall time, so it ends before either limit is overrun.
   */
  #timeLeftMs(): number {
    const { wallMs, cpuMs } = this.#job.limits
    const wallLeft = wallMs - (performance.now() - this.#startedAt)
    const cpuLeft = cpuMs - Number(this.#cpuUsed()) / 1e6
    return Math.max(1, Math.ceil(Math.min(wallLeft, cpuLeft)))
  }

  /**
   * A limit or a cancel: stop code that is still running, and end now. In a
   * session, code still running past a limit is being stopped by its call's
   * timeout (see #timeLeftMs), which keeps the context; a cancel cannot wait.
   */
  #stop(status: CellStatus, name?: string, message?: string): void {
    if (this.#done) return
    this.#cpuUsed() // read while the isolate still exists
    if (this.#busy > 0 && (this.#scope === undefined || status === 'cancelled')) this.#engine.dispose()
    this.#finish({ status, ...(name !== undefined && { error: { name, message: message ?? name } }) })
  }

  /** The heap went past the cell's limit: what holds it is the context (a session's too), so the isolate goes. */
  #outOfMemory(): void {
    if (this.#done) return
    this.#cpuUsed()
    this.#engine.dispose()
    this.#finish({ status: 'error', error: this.#memoryExceeded() })
  }

  #memoryExceeded(): CellError {
    return { name: 'MemoryLimitExceeded', message: `the cell used more than its memory limit of ${this.#job.limits.memoryMb} MB` }
  }

  /**
   * A call into the isolate failed. Either the isolate is gone (out of
   * memory, or broken), or the cell left a promise rejected with nothing to
   * handle it: isolated-vm then fails the call with the rejection, and the
   * job ends with it, as an unhandled rejection ends a Node script.
   */
  #crashed(thrown: unknown): void {
    if (this.#done) return
    if (!this.#isolate.isDisposed) {
      if (this.#scope !== undefined && thrown instanceof Error && thrown.message === TIMED_OUT) {
        this.#stop('timeout', ...this.#limitHit())
        return
      }
      const error =
        thrown instanceof Error
          ? cellError(thrown.name, thrown.message, thrown.stack, this.#job.code, this.#prepared.shifts)
          : { name: 'UnhandledRejection', message: String(thrown) }
      this.#finish({ status: 'error', error })
      return
    }
    const message = thrown instanceof Error ? thrown.message : String(thrown)
    if (/memory limit/i.test(message)) {
      this.#finish({ status: 'error', error: this.#memoryExceeded() })
    } else {
      this.#finish({ status: 'error', error: { name: 'SandboxError', message } })
    }
  }

  #finish(outcome: Outcome): void {
    this.#done = true
    clearTimeout(this.#wallTimer)
    clearInterval(this.#cpuTimer)
    this.#timers.dispose()
    this.#memory.stop()
    const heapBytes = this.#memory.heapBytes()
    const usage: Usage = {
      cpuMs: Number(this.#cpuUsed()) / 1e6,
      wallMs: performance.now() - this.#startedAt,
      // A cell stopped for memory used its limit, in the heap or outside it (where no reading sees it).
      heapBytes: outcome.error?.name === 'MemoryLimitExceeded' ? Math.max(heapBytes, this.#job.limits.memoryMb * 2 ** 20) : heapBytes,
      outputBytes: this.#budget.outputBytes,
    }
    if (!this.#engine.disposed && this.#scope === undefined) {
      this.#enter?.release()
      this.#context?.release()
    }
    // Every way a cell ends passes here: its error, whatever made it, is cut to the protocol's bounds.
    this.#resolve({ ...outcome, ...(outcome.error && { error: clipCellError(outcome.error) }), usage })
  }

  /** Which time limit a session call's timeout stood for. */
  #limitHit(): [name: string, message: string] {
    // The timeout was what was left of one of them: the wall limit if that much wall time has gone.
    return performance.now() - this.#startedAt >= this.#job.limits.wallMs - WALL_SLACK_MS ? this.#wallExceeded() : this.#cpuExceeded()
  }

  /** CPU time of this job so far; the last reading once the isolate is gone. */
  #cpuUsed(): bigint {
    if (!this.#isolate.isDisposed) this.#cpuNs = this.#isolate.cpuTime - this.#cpuAtStart
    return this.#cpuNs
  }
}

function resultOf(text: string, json: string | undefined): CellResult {
  if (json === undefined) return { text }
  try {
    return { text, json: JSON.parse(json) as unknown }
  } catch {
    return { text } // the prelude sends valid JSON; anything else is not trusted
  }
}

/** Splits output into protocol-sized pieces, never between the halves of a surrogate pair. */
function chunks(data: string): string[] {
  if (data.length <= MAX_OUTPUT_CHUNK) return [data]
  const pieces: string[] = []
  for (let start = 0; start < data.length; ) {
    let end = Math.min(start + MAX_OUTPUT_CHUNK, data.length)
    const last = data.charCodeAt(end - 1)
    if (end < data.length && last >= 0xd800 && last <= 0xdbff) end--
    pieces.push(data.slice(start, end))
    start = end
  }
  return pieces
}
