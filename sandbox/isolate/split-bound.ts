/**
 * A bound on the parts one split may make. V8 does not throw when a split
 * would make more parts than its largest array holds (about 2^27): it ends
 * the whole process ("Fatal JavaScript invalid size error"), and with it
 * every cell and session of the sandbox. `'x'.repeat(2 ** 28).split('')`
 * is all it takes. So String.prototype.split and RegExp.prototype[@@split]
 * ask V8 for at most MAX_SPLIT_PARTS + 1 parts (V8 stops there) and throw a
 * RangeError, as any other over-large array does, when the cell wanted more.
 * Installed once when the prelude loads, before any cell code runs; the
 * originals stay in this closure only.
 */

/** Far below V8's largest array, far above what a cell needs (32 Mi parts hold at least 256 MB). */
export const MAX_SPLIT_PARTS = 2 ** 25

type Split = (this: unknown, separator: unknown, limit?: unknown) => unknown[]

/** @example installSplitBound(globalThis); 'x'.repeat(2 ** 28).split('') // RangeError, not a dead process */
export function installSplitBound(global: typeof globalThis): void {
  // An object separator is asked to split by its own @@split, which for a RegExp is the bounded one below:
  // a separator of the cell's own making gets the limit the cell gave, as the language says.
  bound(global.String.prototype, 'split', (separator) => separator === null || (typeof separator !== 'object' && typeof separator !== 'function'))
  bound(global.RegExp.prototype, global.Symbol.split, () => true)
}

function bound(target: object, key: PropertyKey, bounds: (separator: unknown) => boolean): void {
  const original = Reflect.get(target, key) as Split
  const split = {
    // A method (not an arrow) so `this` is the string or regexp it is called on; named and sized as the original.
    split(this: unknown, separator: unknown, limit?: unknown): unknown[] {
      if (!bounds(separator)) return Reflect.apply(original, this, [separator, limit])
      const asked = limit === undefined ? 2 ** 32 - 1 : Number(limit) >>> 0
      const parts = Reflect.apply(original, this, [separator, Math.min(asked, MAX_SPLIT_PARTS + 1)])
      if (parts.length > MAX_SPLIT_PARTS && asked > MAX_SPLIT_PARTS) throw new RangeError(`split would make more than ${MAX_SPLIT_PARTS} parts`)
      return parts
    },
  }.split
  Object.defineProperty(split, 'name', { value: original.name })
  Object.defineProperty(target, key, { ...Object.getOwnPropertyDescriptor(target, key), value: split })
}
