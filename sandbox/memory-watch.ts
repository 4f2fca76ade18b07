/**
 * Holds a running cell to its `memoryMb` from the host: reads the isolate's
 * heap through its probe (heap-probe.ts) every WATCH_EVERY_MS while the cell
 * runs, and calls `onOver` with the first reading past the limit. The
 * isolate's own V8 limit is far higher (engine.ts), so V8's abort, which
 * would take the whole process, is never what stops a cell.
 *
 * Reading starts only once the cell has run WATCH_AFTER_MS: most cells end
 * sooner, and a trivial cell then pays for one timer and nothing else. One
 * in that time cannot allocate enough to matter against the hard limit.
 *
 * The readings also give the cell's usage.heapBytes: the highest reading
 * (or the heap at its end) less the heap when it started, so what earlier
 * cells left for the collector is not counted as this cell's.
 *
 * What lives outside the V8 heap is not in these readings; the prelude
 * counts it in the isolate (isolate/memory-ledger.ts).
 */
import type { Engine } from './engine.ts'

/** A cell that has run this long gets its heap read. */
export const WATCH_AFTER_MS = 10
/** Pause between a reply and the next reading. */
const WATCH_EVERY_MS = 10
/** Reading heap statistics of an idle isolate costs about 0.1 ms; a burst of short cells shares one reading. */
const HEAP_READ_EVERY_MS = 100

export class MemoryWatch {
  readonly #engine: Engine
  readonly #limitBytes: number
  readonly #onOver: (usedBytes: number) => void
  /** The engine's last reading when the cell started. */
  readonly #startBytes: number
  #peakBytes = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  /**
   * @example
   *   const watch = new MemoryWatch(engine, 64 * 2 ** 20, (used) => stop('MemoryLimitExceeded'))
   *   // … when the cell ends:
   *   watch.stop(); usage.heapBytes = watch.heapBytes()
   */
  constructor(engine: Engine, limitBytes: number, onOver: (usedBytes: number) => void) {
    this.#engine = engine
    this.#limitBytes = limitBytes
    this.#onOver = onOver
    this.#startBytes = engine.heap.bytes
    this.#timer = setTimeout(() => this.#read(), WATCH_AFTER_MS)
  }

  /** Stops reading and closes the probe's session (a one-off cell's engine serves the next cell). */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    clearTimeout(this.#timer)
    if (!this.#engine.disposed) void this.#engine.probe.close()
  }

  /**
   * The cell's own peak heap, in bytes: its highest reading, or the heap at
   * its end when the engine can still be asked (read at most every
   * HEAP_READ_EVERY_MS), less the heap when it started. Call after stop().
   */
  heapBytes(): number {
    const { heap, isolate } = this.#engine
    const now = performance.now()
    if (!this.#engine.disposed && now - heap.readAt >= HEAP_READ_EVERY_MS) {
      Object.assign(heap, { bytes: isolate.getHeapStatisticsSync().used_heap_size, readAt: now })
    }
    const end = this.#engine.disposed ? 0 : heap.bytes
    return Math.max(0, Math.max(this.#peakBytes, end) - this.#startBytes)
  }

  #read(): void {
    if (this.#stopped) return
    const reading = this.#engine.probe.read()
    // Undefined while the last cell's session is still closing: try again shortly.
    if (reading === undefined) {
      this.#timer = setTimeout(() => this.#read(), WATCH_EVERY_MS)
      return
    }
    void reading.then((used) => {
      if (this.#stopped) return
      this.#peakBytes = Math.max(this.#peakBytes, used)
      if (used > this.#limitBytes) {
        this.#onOver(used)
        return
      }
      this.#timer = setTimeout(() => this.#read(), WATCH_EVERY_MS)
    })
  }
}
