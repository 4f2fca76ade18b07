/**
 * One slot of a sandbox: an isolate reused across jobs, one job at a time,
 * each in a fresh context. The isolate and the prelude compiled in it are
 * made once and made again only when the isolate is gone (out of memory, or
 * disposed to stop a job) or a job asks for another memory limit.
 */
import ivm from 'isolated-vm'
import type { JobSpec, OutputBody } from '../protocol/index.ts'
import { PRELUDE_FILENAME } from './prelude.ts'
import { runCell, type CellEnd, type Engine, type RunningCell } from './run-cell.ts'

export class Slot {
  readonly #prelude: string
  #engine: (Engine & { memoryMb: number }) | undefined
  #running: RunningCell | undefined

  /** @param prelude the prelude's source (buildPrelude()), compiled once per isolate */
  constructor(prelude: string) {
    this.#prelude = prelude
  }

  get busy(): boolean {
    return this.#running !== undefined
  }

  /**
   * @example
   *   const end = await slot.run(job, (output) => outbox.push(output))
   */
  async run(job: JobSpec, onOutput: (output: OutputBody) => void): Promise<CellEnd> {
    const running = runCell(this.#engineFor(job.limits.memoryMb), job, onOutput)
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

  dispose(): void {
    this.cancel()
    if (this.#engine && !this.#engine.isolate.isDisposed) this.#engine.isolate.dispose()
  }

  #engineFor(memoryMb: number): Engine {
    const engine = this.#engine
    if (engine && !engine.isolate.isDisposed && engine.memoryMb === memoryMb) return engine
    if (engine && !engine.isolate.isDisposed) engine.isolate.dispose()
    this.#engine = createEngine(this.#prelude, memoryMb)
    return this.#engine
  }
}

/**
 * A new isolate with the prelude compiled in it.
 *
 * @example
 *   const engine = createEngine(await buildPrelude(), 64)
 */
export function createEngine(preludeSource: string, memoryMb: number): Engine & { memoryMb: number } {
  const isolate = new ivm.Isolate({
    memoryLimit: memoryMb,
    // isolated-vm's advice: V8 has lost control of the isolate, so end the
    // process; the dispatcher replaces it and accounts for its jobs.
    onCatastrophicError: (message) => {
      console.error(`sandbox: catastrophic isolate error: ${message}`)
      process.abort()
    },
  })
  const prelude = isolate.compileScriptSync(preludeSource, { filename: PRELUDE_FILENAME })
  return { isolate, prelude, memoryMb, heap: { bytes: 0, readAt: -Infinity } }
}
