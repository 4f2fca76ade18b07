/**
 * Holds a running cell to its `memoryMb` from the host: reads the isolate's
 * heap through its probe (heap-probe.ts) every WATCH_EVERY_MS while the cell
 * runs, and calls `onOver` once the heap is past the limit. The isolate's
 * own V8 limit is far higher (engine.ts), so V8's abort, which would take
 * the whole process, is never what stops a cell.
 *
 * The heap in use includes garbage not yet collected, and under a V8 limit
 * that high V8 collects when the heap is about 1.7 times what was live
 * after the last collection, plus its young generation (measured: a cell
 * with 10–15 MB live, churning through garbage, reads 10–50 MB). A reading
 * past the limit alone would stop such cells when they are well within it.
 * So the cell is stopped when a reading is past the limit and
 *
 *   - the reading before it was a third or more higher: a full collection
 *     has just run, and what is left is the live heap; or
 *   - every reading has been past the limit for OVER_FOR_MS: no collection
 *     has brought it back, which a cell within its limit would see; or
 *   - it is past GUARD_FACTOR × the limit + GUARD_SLACK_MB, beyond what
 *     garbage makes of a live heap within the limit: a bound on how far a
 *     fast-growing cell gets before either of the above is seen.
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
/** A reading this much below the one before follows a full collection. */
const COLLECTED_RATIO = 2 / 3
/** Past the limit this long without a collection bringing the heap back under it: over. */
const OVER_FOR_MS = 1000
const GUARD_FACTOR = 2
const GUARD_SLACK_MB = 32
/** Reading heap statistics of an idle isolate costs about 0.1 ms; a burst of short cells shares one reading. */
const HEAP_READ_EVERY_MS = 100

export class MemoryWatch {
  readonly #engine: Engine
  readonly #limitBytes: number
  readonly #onOver: (usedBytes: number) => void
  /** The engine's last reading when the cell started. */
  readonly #startBytes: number
  /** Whether that reading was made for this cell, which then gets one at its end too. */
  readonly #readAtStart: boolean
  #peakBytes = 0
  #lastBytes = 0
  /** When the readings went past the limit, while they stay there. */
  #overSince: number | undefined
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
    this.#readAtStart = this.#readIdle(false)
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
   * its end, less the heap when it started. Call after stop().
   */
  heapBytes(): number {
    this.#readIdle(this.#readAtStart)
    const end = this.#engine.disposed ? 0 : this.#engine.heap.bytes
    return Math.max(0, Math.max(this.#peakBytes, end) - this.#startBytes)
  }

  /**
   * Reads the idle isolate's heap into the engine's last reading, if `now`
   * or if the last is HEAP_READ_EVERY_MS old: in a burst of short cells,
   * one cell in each such time gets a reading at its start and its end,
   * and the others report what they grew the heap past a reading made
   * before them (usually nothing). Whether it read.
   */
  #readIdle(now: boolean): boolean {
    const { heap, isolate } = this.#engine
    const at = performance.now()
    if (this.#engine.disposed || (!now && at - heap.readAt < HEAP_READ_EVERY_MS)) return false
    Object.assign(heap, { bytes: isolate.getHeapStatisticsSync().used_heap_size, readAt: at })
    return true
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
      if (this.#over(used)) return this.#onOver(used)
      this.#timer = setTimeout(() => this.#read(), WATCH_EVERY_MS)
    })
  }

  /** Whether `used` says the cell is over its limit (see the header for why this is not `used > limit`). */
  #over(used: number): boolean {
    const collected = used < this.#lastBytes * COLLECTED_RATIO
    this.#lastBytes = used
    this.#peakBytes = Math.max(this.#peakBytes, used)
    if (used <= this.#limitBytes) {
      this.#overSince = undefined
      return false
    }
    const now = performance.now()
    this.#overSince ??= now
    return collected || now - this.#overSince >= OVER_FOR_MS || used > GUARD_FACTOR * this.#limitBytes + GUARD_SLACK_MB * 2 ** 20
  }
}
