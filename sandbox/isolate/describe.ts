/**
 * How values and errors of a cell are shown: REPL-like text (object-inspect,
 * bundled into the prelude), JSON where a value has a faithful JSON form, and
 * {name, message, stack} for whatever was thrown. The cell's code may run
 * here (getters, proxy traps) and may have replaced any built-in method, so
 * what this needs of them is captured when the prelude loads.
 */
import type objectInspect from 'object-inspect'

declare const MAX_RESULT_CHARS: number

// Loaded on first use: most cells never inspect anything, and esbuild's
// CommonJS wrapper runs object-inspect's module body only when required.
let loaded: typeof objectInspect | undefined

/** REPL-like text: strings quoted, objects as `{ a: 1 }`. */
export function inspect(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
    case 'undefined':
      return String(value)
  }
  if (value === null) return 'null'
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require is what keeps it lazy once bundled
  loaded ??= require('object-inspect') as typeof objectInspect
  return loaded(value, { depth: 4 })
}

// The fast path for primitives writes what object-inspect writes (its
// module body alone costs a tenth of a millisecond per fresh context).
const CONTROL_NAMES: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r' }

function quote(text: string): string {
  const escaped = text
    .replace(/(['\\])/g, '\\$1')
    // eslint-disable-next-line no-control-regex -- control characters are what this escapes
    .replace(/[\x00-\x1f]/g, (char) => {
      const code = char.charCodeAt(0)
      return `\\${CONTROL_NAMES[code] ?? `x${code < 16 ? '0' : ''}${code.toString(16).toUpperCase()}`}`
    })
  return `'${escaped}'`
}

/** Console-like text: strings as they are, anything else inspected. */
export function show(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value)
}

const objectProto = Object.prototype
const arrayProto = Array.prototype
const stringify = JSON.stringify
const getPrototypeOf = Object.getPrototypeOf
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor
const ownKeys = Reflect.ownKeys
const isArray = Array.isArray
const is = Object.is
const isFinite = Number.isFinite

/** Deeper than this is not given as JSON (the text still shows it). */
const MAX_JSON_DEPTH = 100

/** The objects a value is inside of, innermost first: a linked list, since an array's methods are the cell's to replace. */
interface Ancestors {
  value: object
  up: Ancestors | undefined
}

/**
 * JSON text of a value only where JSON.parse gives back the same value:
 * null, booleans, strings, finite numbers other than -0, and arrays and
 * plain objects made of them, with only own enumerable data properties
 * (no getters, no symbol keys, no holes, no cycles, no toJSON of their own).
 * A Map, a Date, NaN or a class instance would turn into something else,
 * so they get text only. The text is built from what was read, each
 * property once, so a getter or proxy cannot show one thing and send another.
 *
 * @example toJson({ a: [1, 'x'] }) // '{"a":[1,"x"]}'; toJson({ a: NaN }) // undefined
 */
export function toJson(value: unknown): string | undefined {
  try {
    const json = write(value, undefined, 0)
    return json !== undefined && json.length <= MAX_RESULT_CHARS ? json : undefined
  } catch {
    return undefined // a proxy trap that throws; a stack too deep
  }
}

function write(value: unknown, ancestors: Ancestors | undefined, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      return isFinite(value) && !is(value, -0) ? stringify(value) : undefined
    case 'object':
      break
    default:
      return undefined // undefined, bigint, symbol, function
  }
  if (value === null) return 'null'
  if (depth >= MAX_JSON_DEPTH) return undefined
  for (let above = ancestors; above !== undefined; above = above.up) if (above.value === value) return undefined
  const inside: Ancestors = { value, up: ancestors }
  const keys = ownKeys(value)
  if (isArray(value)) {
    if (getPrototypeOf(value) !== arrayProto) return undefined
    const length = (value as unknown[]).length
    // Exactly the indices 0…length-1 and `length`: anything else is a hole or a property JSON leaves out.
    if (keys.length !== length + 1) return undefined
    let out = '['
    for (let i = 0; i < length; i++) {
      const item = dataValue(value, String(i))
      if (item === undefined) return undefined
      const json = write(item.value, inside, depth + 1)
      if (json === undefined) return undefined
      out += i === 0 ? json : `,${json}`
      if (out.length > MAX_RESULT_CHARS) return undefined
    }
    return `${out}]`
  }
  const proto = getPrototypeOf(value)
  if (proto !== objectProto && proto !== null) return undefined
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    if (typeof key !== 'string' || key === 'toJSON') return undefined
    const item = dataValue(value, key)
    if (item === undefined) return undefined
    const json = write(item.value, inside, depth + 1)
    if (json === undefined) return undefined
    out += `${i === 0 ? '' : ','}${stringify(key)}:${json}`
    if (out.length > MAX_RESULT_CHARS) return undefined
  }
  return `${out}}`
}

/** An own, enumerable data property's value; undefined for an accessor, a hidden or a missing one. */
function dataValue(object: object, key: string): { value: unknown } | undefined {
  const descriptor = getOwnPropertyDescriptor(object, key)
  return descriptor !== undefined && descriptor.enumerable === true && 'value' in descriptor ? { value: descriptor.value } : undefined
}

export function clip(text: string): string {
  return text.length <= MAX_RESULT_CHARS ? text : `${text.slice(0, MAX_RESULT_CHARS - 1)}…`
}

const ErrorClass = Error

/**
 * Name, message and raw stack of a thrown value. Each is read on its own:
 * a getter that throws, a value that is not a string or a proxy loses that
 * one field, never the others. `throw 42` gives {name: 'Uncaught',
 * message: '42'}, as the REPL prints it.
 *
 * @example
 *   const e = new Error('m'); Object.defineProperty(e, 'stack', { get() { throw 1 } })
 *   describeError(e) // ['Error', 'm', undefined]
 */
export function describeError(thrown: unknown): [name: string, message: string, stack?: string] {
  let isError: boolean
  try {
    isError = thrown instanceof ErrorClass
  } catch {
    return ['Uncaught', 'a value that could not be shown'] // a proxy whose getPrototypeOf throws
  }
  if (!isError) {
    try {
      return ['Uncaught', clip(inspect(thrown))]
    } catch {
      return ['Uncaught', 'a value that could not be shown']
    }
  }
  const error = thrown as Error
  const name = field(() => error.name) ?? 'Error'
  const message = field(() => error.message) ?? 'an error whose message could not be read'
  return [name, message, field(() => error.stack)]
}

/** A property read by `read` as text: a string, or a number, boolean or bigint written out; undefined if reading throws or gives anything else. */
function field(read: () => unknown): string | undefined {
  try {
    const value = read()
    if (typeof value === 'string') return clip(value)
    return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : undefined
  } catch {
    return undefined
  }
}
