/**
 * WebAssembly memories in the cell's memory ledger (memory-ledger.ts). A
 * memory is counted at its maximum, up front: wasm code grows it with the
 * `memory.grow` instruction, which no JavaScript wrapper sees, so its
 * maximum is the only bound there is.
 *
 * - `new WebAssembly.Memory({initial, maximum})`: the maximum is cut to
 *   what is left of the cell's budget (or set to it, when none is given),
 *   and counted; an initial size past the budget is refused. `grow` past
 *   the cut maximum (but within the one asked for) is refused by the
 *   ledger; in wasm code, `memory.grow` past it gives -1, as out of memory does.
 * - A module that declares a memory of its own (rather than importing one)
 *   has each instance counted that memory's declared maximum, and refused
 *   when it has none (4 GiB) or one past the budget: a binary cannot be cut
 *   down the way a JS descriptor can.
 *
 * Module and Instance are the only ways to an instance: harden.ts makes
 * WebAssembly.compile and .instantiate go through them.
 */
import type { MemoryLedger } from './memory-ledger.ts'

const PAGE_BYTES = 65536
/** What a memory without a declared maximum can grow to (wasm32). */
const MAX_PAGES = 65536

const weakMapGet = WeakMap.prototype.get
const weakMapSet = WeakMap.prototype.set
const apply = Reflect.apply
const construct = Reflect.construct
const defineProperty = Object.defineProperty
const Uint8ArrayClass = Uint8Array
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
const viewBuffer = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'buffer')!.get!
const viewOffset = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteOffset')!.get!
const viewLength = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteLength')!.get!
const isView = ArrayBuffer.isView
const bufferLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!
const sharedLength = typeof SharedArrayBuffer === 'function' ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get! : bufferLength

/** A memory's buffer's length: a shared memory's is a SharedArrayBuffer, whose getter is its own. */
function lengthOf(buffer: unknown): number {
  try {
    return apply(bufferLength, buffer, []) as number
  } catch {
    return apply(sharedLength, buffer, []) as number
  }
}

/**
 * @example countWasmMemory(globalThis, ledger) // once, as the prelude loads
 */
export function countWasmMemory(global: typeof globalThis, ledger: MemoryLedger): void {
  const wasm = global.WebAssembly
  /** Each module's own memories' maximum, in bytes, or Infinity when one has none. */
  const ownMemory = new WeakMap<object, number>()

  const Memory = wasm.Memory
  /** Memories whose maximum was cut: what was asked for, and what they got, in pages. */
  const cut = new WeakMap<object, { asked: number; max: number }>()
  const memory: typeof Memory = new Proxy(Memory, {
    construct: (_target, args, newTarget): object => {
      const to = newTarget === memory ? Memory : newTarget
      const descriptor = args[0]
      if (typeof descriptor !== 'object' || descriptor === null) return construct(Memory, args, to) as object
      const { initial, maximum, shared } = descriptor as { initial?: unknown; maximum?: unknown; shared?: unknown }
      const first = +(initial as number)
      const asked = maximum === undefined ? MAX_PAGES : +(maximum as number)
      // An initial size past the budget stays past it, and the ledger refuses it; NaN goes on to V8, which refuses it.
      const max = Math.max(first, Math.min(asked, Math.floor(ledger.left / PAGE_BYTES)))
      ledger.room(max * PAGE_BYTES)
      const made = construct(Memory, [{ initial: first, maximum: max, shared: Boolean(shared) }], to) as object
      ledger.record(made, max * PAGE_BYTES)
      if (max < asked) apply(weakMapSet, cut, [made, { asked, max }])
      return made
    },
  })
  defineProperty(Memory.prototype, 'constructor', { value: memory, writable: true, configurable: true, enumerable: false })
  wasm.Memory = memory
  const grow = Memory.prototype.grow
  const buffer = Object.getOwnPropertyDescriptor(Memory.prototype, 'buffer')!.get!
  defineProperty(Memory.prototype, 'grow', {
    value: function (this: WebAssembly.Memory, delta: unknown) {
      const pages = +(delta as number)
      const limits = apply(weakMapGet, cut, [this]) as { asked: number; max: number } | undefined
      if (limits !== undefined) {
        const size = lengthOf(apply(buffer, this, [])) / PAGE_BYTES + pages
        // Within what the cell asked for, past what its budget gave.
        if (size > limits.max && size <= limits.asked) ledger.refuse(size * PAGE_BYTES)
      }
      return apply(grow, this, [pages]) as number
    },
    writable: true,
    configurable: true,
    enumerable: false,
  })

  const Module = wasm.Module
  const module: typeof Module = new Proxy(Module, {
    construct: (_target, args, newTarget): object => {
      const bytes = copyOf(args[0])
      // Not bytes: the constructor throws as it would have.
      if (bytes === undefined) return construct(Module, args, newTarget === module ? Module : newTarget) as object
      const made = construct(Module, [bytes], newTarget === module ? Module : newTarget) as object
      apply(weakMapSet, ownMemory, [made, declaredMaximum(bytes)])
      return made
    },
  })
  defineProperty(Module.prototype, 'constructor', { value: module, writable: true, configurable: true, enumerable: false })
  wasm.Module = module

  wasm.Instance = ledger.counting(wasm.Instance, (args) => {
    const own = apply(weakMapGet, ownMemory, [args[0]]) as number | undefined
    // Infinity (no maximum) is past any budget: the ledger refuses it.
    return { bytes: own ?? 0 }
  })
}

/** A copy of a BufferSource's bytes (what the module is compiled from, so nothing can change them after they were read). */
function copyOf(source: unknown): Uint8Array | undefined {
  if (source instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && source instanceof SharedArrayBuffer)) {
    return new Uint8ArrayClass(new Uint8ArrayClass(source as ArrayBuffer))
  }
  if (!isView(source)) return undefined
  if (source instanceof DataView) return new Uint8ArrayClass(new Uint8ArrayClass(source.buffer, source.byteOffset, source.byteLength))
  const view = source as Uint8Array
  return new Uint8ArrayClass(new Uint8ArrayClass(apply(viewBuffer, view, []) as ArrayBuffer, apply(viewOffset, view, []) as number, apply(viewLength, view, []) as number))
}

/**
 * The sum of the maxima of the memories the module declares (its memory
 * section, id 5), in bytes: 0 when it declares none, Infinity when one has
 * no maximum or is 64-bit; 0 for bytes that are not a module (V8 refuses them).
 */
export function declaredMaximum(bytes: Uint8Array): number {
  let at = 8 // magic and version
  const leb = (): number => {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[at++]
      if (byte === undefined) throw new RangeError('truncated')
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    throw new RangeError('too long')
  }
  try {
    while (at < bytes.length) {
      const id = bytes[at++]
      const size = leb()
      if (id !== 5) {
        at += size
        continue
      }
      let total = 0
      for (let count = leb(); count > 0; count--) {
        const flags = leb()
        leb() // initial pages
        if ((flags & 1) === 0 || (flags & 4) !== 0) return Infinity
        total += leb() * PAGE_BYTES
      }
      return total
    }
  } catch {
    return 0
  }
  return 0
}
