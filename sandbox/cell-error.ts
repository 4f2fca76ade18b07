/**
 * Turns what the isolate reported about a thrown value into the job's error.
 * The stack keeps only frames in the cell, written `at cell.js:LINE:COL`
 * with positions mapped back through the transform's column shifts; prelude
 * and host frames never show. A syntax error in the cell has no frame in it,
 * so its position comes from acorn.
 */
import type { CellError } from '../protocol/index.ts'
import { CELL_FILENAME } from './isolate/wire.ts'
import { locateSyntaxError, type ColumnShift } from './transform.ts'

const FRAME = /^\s+at /
const POSITION = new RegExp(`${CELL_FILENAME.replace('.', '\\.')}:(\\d+):(\\d+)`, 'g')
// V8 names the top level of evaluated code, and anonymous functions in it,
// "eval": `at eval (cell.js:3:1)`, `at Object.eval [as callback] (cell.js:1:35)`.
const EVAL_FRAME = new RegExp(`(?:\\S+\\.)?\\beval(?: \\[as [^\\]]+\\])? \\((${CELL_FILENAME.replace('.', '\\.')}:\\d+:\\d+)\\)`)

/** The limits of the protocol's cellErrorSchema. */
const MAX_NAME = 200
const MAX_TEXT = 64 * 1024

/**
 * The error cut to the protocol's bounds, whatever made it: a sandbox
 * message over them is refused by the dispatcher, and the cell with it.
 *
 * @example
 *   clipCellError({ name: 'UnhandledRejection', message: 'x'.repeat(70_000) }).message.length // 65536
 */
export function clipCellError(error: CellError): CellError {
  const clipped: CellError = { name: error.name.slice(0, MAX_NAME), message: error.message.slice(0, MAX_TEXT) }
  if (error.stack !== undefined) clipped.stack = error.stack.slice(0, MAX_TEXT)
  return clipped
}

/**
 * @example
 *   cellError('Error', 'x', 'Error: x\n    at eval (cell.js:2:7)\n    at enter (cellgate-prelude.js:9:1)', code, [])
 *   // { name: 'Error', message: 'x', stack: 'Error: x\n    at cell.js:2:7' }
 */
export function cellError(name: string, message: string, rawStack: string | undefined, code: string, shifts: ColumnShift[]): CellError {
  const error = clipCellError({ name, message })
  if (rawStack === undefined) return error
  const lines = rawStack.split('\n')
  const firstFrame = lines.findIndex((line) => FRAME.test(line))
  const header = firstFrame === -1 ? lines : lines.slice(0, firstFrame)
  let frames = lines
    .slice(header.length)
    .filter((line) => line.includes(`${CELL_FILENAME}:`))
    .map((line) => line.replace(EVAL_FRAME, '$1').replace(POSITION, (_, line: string, column: string) => mapBack(Number(line), Number(column), shifts)))
  if (frames.length === 0 && name === 'SyntaxError') {
    const at = locateSyntaxError(code)
    if (at !== undefined) frames = [`    at ${CELL_FILENAME}:${at.line}:${at.column + 1}`]
  }
  error.stack = [...header, ...frames].join('\n').slice(0, MAX_TEXT)
  return error
}

/** Maps a 1-based V8 position in the evaluated source back to the cell's code (shifts are in source order). */
function mapBack(line: number, column: number, shifts: ColumnShift[]): string {
  const generated = column - 1
  let before = 0 // characters inserted before the current shift
  let original: number | undefined
  for (const shift of shifts) {
    if (shift.line !== line) continue
    const insertedAt = shift.column + before
    if (generated < insertedAt) break
    if (generated < insertedAt + shift.delta) {
      original = shift.column // inside the inserted text
      break
    }
    before += shift.delta
  }
  return `${CELL_FILENAME}:${line}:${(original ?? generated - before) + 1}`
}
