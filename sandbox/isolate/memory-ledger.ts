/**
 * Counts, inside the isolate, the memory a cell holds outside the V8 heap,
 * which neither the host's heap readings (memory-watch.ts) nor isolated-vm's
 * allocator see: resizable ArrayBuffers (their byteLength, as it is resized),
 * growable SharedArrayBuffers (as they grow), WebAssembly memories
 * (wasm-memory.ts) and Intl objects (each counted as INTL_OBJECT_BYTES,
 * for the ICU objects behind it). One 16 MB cell held 256 MB this way.
 *
 * Past the cell's memoryMb, the allocation is refused with a RangeError
 * named MemoryLimitExceeded and the host is told (`post('memory')`), so the
 * cell ends `error MemoryLimitExceeded` whether or not it catches the error:
 * a one-off cell at once, a session's cell when its code is done (run-cell.ts;
 * its session lives on, holding no more than its limit).
 *
 * The ledger is installed when the prelude loads, before any cell code runs
 * in the context, and the constructors and methods it wraps hold the only
 * references to the originals, so a cell cannot reach around it. It lives
 * as long as the context: a session's holdings add up across its cells.
 * Holders are kept by WeakRef; when a charge would pass the limit, those
 * the collector has taken are given back first. (A WeakRef keeps its
 * target until the current synchronous run ends, so within one run the
 * count only grows.) This is counted on its own, beside the heap's limit.
 */
import { countWasmMemory } from './wasm-memory.ts'
import type { Post } from './wire.ts'

/** What one Intl object is counted as: the ICU formatter, break iterator or collator behind it. */
export const INTL_OBJECT_BYTES = 32 * 1024

const apply = Reflect.apply
const construct = Reflect.construct
const WeakRefClass = WeakRef
const deref = WeakRef.prototype.deref
const weakMapGet = WeakMap.prototype.get
const weakMapSet = WeakMap.prototype.set
const RangeErrorClass = RangeError
const defineProperty = Object.defineProperty

interface Entry {
  ref: WeakRef<object>
  bytes: number
}

export class MemoryLedger {
  #limit = Infinity
  #post: Post | undefined
  #total = 0
  // A null prototype: setters a cell puts on Array.prototype never see an entry.
  #entries: Entry[] = Object.setPrototypeOf([], null) as Entry[]
  readonly #byHolder = new WeakMap<object, Entry>()

  /** Sets the limit, in bytes, and the current cell's `post`: at every run (a session's cells share the ledger). */
  begin(limitBytes: number, post: Post): void {
    this.#limit = limitBytes
    this.#post = post
  }

  /**
   * Throws, and tells the host, if `bytes` more would take the count past
   * the limit. Call before allocating; record() once allocated.
   *
   * @example ledger.room(2 ** 20); const made = allocate(); ledger.record(made, 2 ** 20)
   */
  room(bytes: number): void {
    if (bytes <= 0 || this.#total + bytes <= this.#limit) return
    this.#sweep()
    if (this.#total + bytes > this.#limit) this.refuse(this.#total + bytes)
  }

  /** Throws the refusal, and tells the host, for a cell that would hold `bytes` outside the heap. */
  refuse(bytes: number): never {
    this.#post?.('memory', bytes)
    const error = new RangeErrorClass(`the cell's memory outside the V8 heap would pass its limit of ${this.#limit / 2 ** 20} MB`)
    defineProperty(error, 'name', { value: 'MemoryLimitExceeded', writable: true, configurable: true, enumerable: false })
    throw error
  }

  /** Counts `bytes` more (fewer, when negative) for `holder`, which holds them until the collector takes it. */
  record(holder: object, bytes: number): void {
    let entry = apply(weakMapGet, this.#byHolder, [holder]) as Entry | undefined
    if (entry === undefined) {
      entry = { ref: new WeakRefClass(holder), bytes: 0 }
      apply(weakMapSet, this.#byHolder, [holder, entry])
      this.#entries[this.#entries.length] = entry
    }
    entry.bytes += bytes
    this.#total += bytes
  }

  /**
   * Wraps a constructor so that each object it makes is counted what `cost`
   * says of its arguments, and refused before it is made past the limit.
   * `cost` may return other arguments to pass on (read once, so a getter
   * cannot tell the ledger one size and the constructor another).
   * `callable`: the constructor also makes objects when called without
   * `new` (as Intl.DateTimeFormat does). The wrapper replaces the
   * constructor on its prototype too, so no instance leads to the original.
   *
   * @example
   *   Intl.Collator = ledger.counting(Intl.Collator, () => ({ bytes: INTL_OBJECT_BYTES }), true)
   */
  counting<T extends abstract new (...args: never[]) => object>(original: T, cost: (args: unknown[]) => { bytes: number; args?: unknown[] }, callable = false): T {
    const make = (args: unknown[], newTarget: unknown): object => {
      const counted = cost(args)
      this.room(counted.bytes)
      const made = construct(original as never, counted.args ?? args, newTarget as never) as object
      // Nothing counted, nothing held: a WeakRef would keep the object alive until the cell's code yields.
      if (counted.bytes > 0) this.record(made, counted.bytes)
      return made
    }
    const wrapped: T = new Proxy(original, {
      construct: (_target, args, newTarget) => make(args, newTarget === wrapped ? original : newTarget),
      apply: (_target, self, args) => (callable ? make(args, original) : apply(original as never, self, args)),
    })
    defineProperty(original.prototype, 'constructor', { value: wrapped, writable: true, configurable: true, enumerable: false })
    return wrapped
  }

  /** Bytes that can still be charged (holders the collector took may free more). */
  get left(): number {
    return Math.max(0, this.#limit - this.#total)
  }

  /** Gives back what holders the collector has taken were charged. */
  #sweep(): void {
    const kept = Object.setPrototypeOf([], null) as Entry[]
    let total = 0
    for (let i = 0; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!
      if (apply(deref, entry.ref, []) === undefined) continue
      kept[kept.length] = entry
      total += entry.bytes
    }
    this.#entries = kept
    this.#total = total
  }
}

/** Intl constructors that make an object when called without `new` too. */
const CALLABLE_INTL: ReadonlySet<string> = new Set(['DateTimeFormat', 'NumberFormat', 'Collator', 'v8BreakIterator'])

/**
 * A ledger for this context, with the growable buffers, Intl and
 * WebAssembly memories counted in it. Run once, as the prelude loads.
 *
 * @example const ledger = installMemoryLedger(globalThis) // later, per cell: ledger.begin(64 * 2 ** 20, post)
 */
export function installMemoryLedger(global: typeof globalThis): MemoryLedger {
  const ledger = new MemoryLedger()
  countGrowable(global, 'ArrayBuffer', 'resize', ledger)
  countGrowable(global, 'SharedArrayBuffer', 'grow', ledger)
  const intl = global.Intl as unknown as Record<string, new () => object>
  for (const name of Object.getOwnPropertyNames(intl)) {
    const original = intl[name]
    if (typeof original !== 'function' || typeof original.prototype !== 'object') continue
    intl[name] = ledger.counting(original, () => ({ bytes: INTL_OBJECT_BYTES }), CALLABLE_INTL.has(name))
  }
  // Each Segments object holds a break iterator of its own.
  const segmenter = intl.Segmenter?.prototype as { segment?: (text: unknown) => object } | undefined
  const segment = segmenter?.segment
  if (segmenter && segment) {
    segmenter.segment = function (this: unknown, text: unknown) {
      ledger.room(INTL_OBJECT_BYTES)
      const segments = apply(segment, this, [text]) as object
      ledger.record(segments, INTL_OBJECT_BYTES)
      return segments
    }
  }
  countWasmMemory(global, ledger)
  return ledger
}

type Growable = new (length: number, options?: { maxByteLength: number }) => ArrayBuffer

/**
 * A growable buffer commits its byteLength outside any allocator isolated-vm
 * counts: charged as made and as it grows (or shrinks). Its length and
 * options are read once, here, and passed on as plain numbers.
 */
function countGrowable(global: typeof globalThis, name: 'ArrayBuffer' | 'SharedArrayBuffer', method: 'resize' | 'grow', ledger: MemoryLedger): void {
  const table = global as unknown as Record<string, Growable>
  const original = table[name]
  if (typeof original !== 'function') return
  const prototype = original.prototype as unknown as Record<string, (length: number) => void>
  const byteLength = Object.getOwnPropertyDescriptor(prototype, 'byteLength')!.get!
  const change = prototype[method]
  table[name] = ledger.counting(original, (args) => {
    const options = args[1]
    if (typeof options !== 'object' || options === null) return { bytes: 0 }
    const length = toNumber(args[0])
    const max = (options as { maxByteLength?: unknown }).maxByteLength
    if (max === undefined) return { bytes: 0, args: [length] }
    return { bytes: length, args: [length, { maxByteLength: toNumber(max) }] }
  })
  if (change === undefined) return
  defineProperty(prototype, method, {
    value: function (this: object, newLength: unknown) {
      const length = toNumber(newLength)
      const before = apply(byteLength, this, []) as number
      ledger.room(length - before)
      apply(change, this, [length])
      ledger.record(this, (apply(byteLength, this, []) as number) - before)
    },
    writable: true,
    configurable: true,
    enumerable: false,
  })
}

/** ToNumber, as the constructor would apply it (a BigInt or a Symbol throws a TypeError, as there). */
function toNumber(value: unknown): number {
  return +(value as number)
}
