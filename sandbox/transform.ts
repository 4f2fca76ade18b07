/**
 * Prepares a cell's code for evaluation in the isolate. Code without
 * top-level await runs as it is, as global code, whose completion value is
 * exactly what a REPL shows. Code with top-level await is wrapped in an
 * async arrow function that returns the last expression statement. The
 * wrapper adds no line, so line numbers stay; the columns it shifts are
 * recorded for cell-error.ts to map stack positions back.
 */
import { parse, type Options, type Position } from 'acorn'
import { CELL_FILENAME } from './isolate/wire.ts'

/** `delta` characters were inserted at (line, column) of the original code; line 1-based, column 0-based. */
export interface ColumnShift {
  line: number
  column: number
  delta: number
}

export interface PreparedCell {
  /** What the isolate evaluates. */
  source: string
  shifts: ColumnShift[]
}

const SCRIPT: Options = { ecmaVersion: 'latest', sourceType: 'script' }
const PREFIX = '(async () => {'
const RETURN = 'return ('

/**
 * @example
 *   prepareCell('const x = await f()\nx + 1').source
 *   // '(async () => {const x = await f()\nreturn (x + 1)\n})()\n//# sourceURL=cell.js'
 */
export function prepareCell(code: string): PreparedCell {
  const program = parseTopLevelAwait(code)
  if (program === undefined) return { source: withSourceUrl(code), shifts: [] }
  const shifts: ColumnShift[] = [{ line: 1, column: 0, delta: PREFIX.length }]
  let body = code
  const last = program.body.at(-1)
  if (last?.type === 'ExpressionStatement' && last.loc) {
    const { start } = last
    const end = last.expression.end
    body = `${code.slice(0, start)}${RETURN}${code.slice(start, end)})${code.slice(end)}`
    shifts.push({ line: last.loc.start.line, column: last.loc.start.column, delta: RETURN.length })
  }
  return { source: withSourceUrl(`${PREFIX}${body}\n})()`), shifts }
}

/** Where acorn finds the first syntax error, for errors V8 reports without a position. */
export function locateSyntaxError(code: string): Position | undefined {
  try {
    parse(code, { ...SCRIPT, allowAwaitOutsideFunction: true })
    return undefined
  } catch (error) {
    return (error as { loc?: Position }).loc
  }
}

/** The program when the code needs top-level await; undefined when it parses without (or not at all: V8 then reports the error). */
function parseTopLevelAwait(code: string): ReturnType<typeof parse> | undefined {
  if (!code.includes('await')) return undefined
  try {
    parse(code, SCRIPT)
    return undefined
  } catch {
    try {
      return parse(code, { ...SCRIPT, allowAwaitOutsideFunction: true, locations: true })
    } catch {
      return undefined
    }
  }
}

// A cell ending in a line comment must not swallow the sourceURL: hence the newline.
function withSourceUrl(code: string): string {
  return `${code}\n//# sourceURL=${CELL_FILENAME}`
}
