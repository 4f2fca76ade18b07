/**
 * The cell's `display` helpers: rich outputs on the `display` stream, one
 * per call, each at most one output chunk (a picture cannot be split).
 *
 *   display.text(s)  display.html(s)  display.svg(s)  display.json(v)
 *   display.png(base64 or Uint8Array)  display.table(rows, columns?)
 *   display(value) picks one of them
 */
import { inspect, toJson } from './describe.ts'
import type { Emit } from './emit.ts'

declare const MAX_OUTPUT_CHUNK: number

/** A table: {columns: string[], rows: JSON values[][]}, rendered natively by the clients. */
export const TABLE_MIME = 'application/vnd.cellgate.table+json'

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47]
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export interface Display {
  (value: unknown): void
  text(text: unknown): void
  html(html: unknown): void
  svg(svg: unknown): void
  json(value: unknown): void
  png(image: unknown): void
  table(rows: unknown, columns?: unknown): void
}

export function createDisplay(emit: Emit): Display {
  const out = (mime: string, data: string): void => {
    if (data.length > MAX_OUTPUT_CHUNK) {
      throw new RangeError(`display output is ${data.length} characters; one output holds at most ${MAX_OUTPUT_CHUNK}`)
    }
    emit('display', mime, data)
  }
  const helpers = {
    text: (text: unknown) => out('text/plain', String(text)),
    html: (html: unknown) => out('text/html', String(html)),
    svg: (svg: unknown) => out('image/svg+xml', String(svg)),
    json: (value: unknown) => {
      const json = JSON.stringify(value)
      if (json === undefined) throw new TypeError('display.json: the value has no JSON form')
      out('application/json', json)
    },
    png: (image: unknown) => out('image/png', pngBase64(image)),
    table: (rows: unknown, columns?: unknown) => out(TABLE_MIME, JSON.stringify(tableOf(rows, columns))),
  }
  /** Strings are text (an `<svg` string is a picture), PNG bytes are a picture, plain data is JSON, the rest is inspected. */
  const display = (value: unknown): void => {
    if (typeof value === 'string') return value.trimStart().startsWith('<svg') ? helpers.svg(value) : helpers.text(value)
    if (value instanceof Uint8Array && PNG_SIGNATURE.every((byte, i) => value[i] === byte)) return helpers.png(value)
    const json = toJson(value)
    return json === undefined ? helpers.text(inspect(value)) : out('application/json', json)
  }
  return Object.assign(display, helpers)
}

/**
 * Rows of objects (columns: their keys, in order of first appearance) or of
 * arrays (columns: 0, 1, 2…), unless `columns` names them. Strings, finite
 * numbers and booleans stay as they are, missing cells are null, anything
 * else is shown as a REPL would show it.
 */
function tableOf(rows: unknown, columns?: unknown): { columns: string[]; rows: unknown[][] } {
  if (!Array.isArray(rows)) throw new TypeError('display.table: expected an array of rows (objects or arrays)')
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === 'string'))) {
    throw new TypeError('display.table: columns must be an array of strings')
  }
  const names: string[] = columns ? [...(columns as string[])] : []
  if (!columns) {
    const seen = new Set<string>()
    for (const row of rows) {
      const keys = Array.isArray(row) ? row.map((_, i) => String(i)) : row !== null && typeof row === 'object' ? Object.keys(row) : ['value']
      for (const key of keys) {
        if (!seen.has(key)) names.push(key)
        seen.add(key)
      }
    }
  }
  const cell = (value: unknown): unknown => {
    if (value === undefined || value === null) return null
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value
    return inspect(value)
  }
  const body = rows.map((row) => {
    if (Array.isArray(row)) return names.map((_, i) => cell(columns ? row[i] : row[Number(names[i])]))
    if (row !== null && typeof row === 'object') return names.map((name) => cell((row as Record<string, unknown>)[name]))
    return names.map((name) => (name === 'value' ? cell(row) : null))
  })
  return { columns: names, rows: body }
}

function pngBase64(image: unknown): string {
  if (image instanceof Uint8Array) return base64(image)
  if (typeof image === 'string' && BASE64.test(image)) return image
  throw new TypeError('display.png: expected a base64 string or a Uint8Array of PNG bytes')
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

// A bare V8 context has no btoa or Buffer.
function base64(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!
    const b = bytes[i + 1]
    const c = bytes[i + 2]
    out += ALPHABET[a >> 2]! + ALPHABET[((a & 3) << 4) | ((b ?? 0) >> 4)]!
    out += b === undefined ? '=' : ALPHABET[((b & 15) << 2) | ((c ?? 0) >> 6)]!
    out += c === undefined ? '=' : ALPHABET[c & 63]!
  }
  return out
}
