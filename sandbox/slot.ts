/**
 * One slot of a sandbox: an isolate reused across jobs, one job at a time,
 * each in a fresh context. The isolate and the prelude compiled in it are
 * made once and made again only when the isolate is gone (out of memory, or
 * disposed to stop a job) or a job asks for another memory limit.
 *
 * Making a context and running the prelude in it is most of a trivial
 * cell's cost (about 0.5 ms), so an idle slot makes the next job's context
 * ahead of time (prepareNext), off the path from `run` to `end`. That
 * context is fresh: no job has run in it.
 */
import type { RunJob, OutputBody } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import { Engine } from './engine.ts'
import { prepareContext, runCell, type CellEnd, type PreparedContext, type RunningCell } from './run-cell.ts'

export class Slot {
  readonly #prelude: string
  readonly #log: Logger
  #engine: Engine | undefined
  #running: RunningCell | undefined
  /** The next job's context, made by prepareNext in the isolate of `engine`. */
  #spare: { engine: Engine; context: PreparedContext } | undefined

  /**
   * @param prelude the prelude's source (buildPrelude()), compiled once per isolate
   * @param log the process's logger, for an isolate V8 lost control of
   */
  constructor(prelude: string, log: Logger) {
    this.#prelude = prelude
    this.#log = log
  }

  get busy(): boolean {
    return this.#running !== undefined
  }

  /**
   * @example
   *   const end = await slot.run(job, (output) => outbox.push(output))
   */
  async run(job: RunJob, onOutput: (output: OutputBody) => void): Promise<CellEnd> {
    const engine = this.#engineFor(job.limits.memoryMb)
    const running = runCell(engine, job, onOutput, undefined, this.#takeSpare(engine))
    this.#running = running
    try {
      return await running.ended
    } finally {
      this.#running = undefined
    }
  }

  /** Ends the running job, if any, as `cancelled`. */
  cancel(): void {
    this.#running?.cancel()
  }

  /**
   * Makes the next job's fresh context now, if the slot is idle and has an
   * isolate. Call it once the last job's end is on its way: it takes the
   * time the next job would otherwise spend on it.
   *
   * @example
   *   push({ type: 'end', … }); setImmediate(() => slot.prepareNext())
   */
  prepareNext(): void {
    const engine = this.#engine
    if (this.busy || this.#spare !== undefined || engine === undefined || engine.disposed) return
    try {
      this.#spare = { engine, context: prepareContext(engine) }
    } catch {
      // The isolate is broken; the next job makes its own context and ends with the reason.
    }
  }

  dispose(): void {
    this.cancel()
    this.#spare = undefined
    this.#engine?.dispose()
  }

  /** The spare context, if it was made in this engine's isolate (one of a disposed isolate went with it). */
  #takeSpare(engine: Engine): PreparedContext | undefined {
    const spare = this.#spare
    this.#spare = undefined
    return spare !== undefined && spare.engine === engine && !engine.disposed ? spare.context : undefined
  }

  #engineFor(memoryMb: number): Engine {
    const engine = this.#engine
    if (engine && !engine.disposed && engine.memoryMb === memoryMb) return engine
    engine?.dispose()
    this.#engine = new Engine(this.#prelude, memoryMb, this.#log)
    return this.#engine
  }
}
