/**
 * How values and errors of a cell are shown: REPL-like text (object-inspect,
 * bundled into the prelude), JSON where a value has a faithful JSON form, and
 * {name, message, stack} for whatever was thrown.
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
const stringify = JSON.stringify
const getPrototypeOf = Object.getPrototypeOf
const isArray = Array.isArray

/**
 * JSON text of a value whose JSON form says the same thing: primitives other
 * than undefined, bigint, symbol and non-finite numbers; arrays and plain
 * objects. A Map, a Date or a class instance would turn into something else.
 */
export function toJson(value: unknown): string | undefined {
  const type = typeof value
  const plain =
    value === null ||
    type === 'string' ||
    type === 'boolean' ||
    (type === 'number' && Number.isFinite(value)) ||
    (type === 'object' && (isArray(value) || [objectProto, null].includes(getPrototypeOf(value))))
  if (!plain) return undefined
  try {
    const json = stringify(value)
    return json.length <= MAX_RESULT_CHARS ? json : undefined
  } catch {
    return undefined // cycles, bigint inside
  }
}

export function clip(text: string): string {
  return text.length <= MAX_RESULT_CHARS ? text : `${text.slice(0, MAX_RESULT_CHARS - 1)}…`
}

const ErrorClass = Error

/**
 * Name, message and raw stack of a thrown value. Getters on the value may
 * throw; what cannot be read is reported as such rather than lost.
 * `throw 42` gives {name: 'Uncaught', message: '42'}, as the REPL prints it.
 */
export function describeError(thrown: unknown): [name: string, message: string, stack?: string] {
  try {
    if (thrown instanceof ErrorClass) {
      const stack = thrown.stack
      return [clip(String(thrown.name)), clip(String(thrown.message)), typeof stack === 'string' ? clip(stack) : undefined]
    }
    return ['Uncaught', clip(inspect(thrown))]
  } catch {
    return ['Uncaught', 'a value that could not be shown']
  }
}
