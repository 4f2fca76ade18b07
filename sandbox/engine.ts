/**
 * A slot's or a session's isolate, with the prelude compiled in it and the
 * probe that reads its heap while a cell runs (heap-probe.ts).
 *
 * Its V8 limit (hardLimitMb) is well above the cell's `memoryMb`, and the
 * cell's own limit is enforced from the host (memory-watch.ts): past V8's
 * limit, V8 often cannot stop the growth where it happens (a Map or Set
 * rehashing, an object gaining keys, a string being built) and aborts the
 * whole process ("Catastrophic out-of-memory"), taking every other cell and
 * session in it along; the host stops the cell long before that.
 *
 * An engine is disposed through `dispose()`, never `isolate.dispose()`:
 * the probe's inspector session must be gone first (heap-probe.ts says
 * why), which may take until its last reply, a few milliseconds during
 * which the isolate's code goes on running. `disposed` is true from the call.
 */
import ivm from 'isolated-vm'
import type { Logger } from '../telemetry/logger.ts'
import { HeapProbe } from './heap-probe.ts'
import { PRELUDE_FILENAME } from './prelude.ts'

/**
 * V8's limit for an isolate whose cells may use `memoryMb`: room for what
 * one uninterruptible step (a rehash, a JSON.stringify) allocates past the
 * cell's limit before the host's watch can stop it.
 *
 * @example hardLimitMb(64) // 1216
 */
export function hardLimitMb(memoryMb: number): number {
  return 3 * memoryMb + 1024
}

export class Engine {
  readonly isolate: ivm.Isolate
  readonly prelude: ivm.Script
  /** The cell limit this engine was made for. */
  readonly memoryMb: number
  readonly probe: HeapProbe
  /** The isolate's heap in use when last read, and when (performance.now()). */
  readonly heap: { bytes: number; readAt: number }
  #disposing = false

  /**
   * @param prelude the prelude's source (buildPrelude()), compiled once per isolate
   * @param log the process's logger, for an isolate V8 lost control of
   * @example
   *   const engine = new Engine(await buildPrelude(), 64, log)
   */
  constructor(prelude: string, memoryMb: number, log: Logger) {
    this.memoryMb = memoryMb
    this.isolate = new ivm.Isolate({
      memoryLimit: hardLimitMb(memoryMb),
      inspector: true,
      // isolated-vm's advice: V8 has lost control of the isolate, so end the
      // process; the dispatcher replaces it and accounts for its jobs.
      onCatastrophicError: (message) => {
        log.child({ component: 'isolate' }).fatal({ reason: message }, 'catastrophic isolate error')
        process.abort()
      },
    })
    this.prelude = this.isolate.compileScriptSync(prelude, { filename: PRELUDE_FILENAME })
    this.probe = new HeapProbe(this.isolate)
    this.heap = { bytes: 0, readAt: -Infinity }
  }

  get disposed(): boolean {
    return this.#disposing || this.isolate.isDisposed
  }

  /** Stops whatever runs in the isolate and frees it: at once, or once the probe has closed. */
  dispose(): void {
    if (this.disposed) return
    this.#disposing = true
    void this.probe.close(() => {
      if (!this.isolate.isDisposed) this.isolate.dispose()
    })
  }
}
