/**
 * Prepares a cell's code for evaluation in the isolate. Code without
 * top-level await runs as it is, as global code, whose completion value is
 * exactly what a REPL shows. Code with top-level await is wrapped in an
 * async arrow function that returns the last expression statement.
 *
 * A cell of a session also has its top-level declarations rewritten into
 * bindings of the session's global object, as a notebook user expects: the
 * next cell sees them, and declaring the same name again does not throw.
 *
 *   plain global code   let/const x = …   ->  var x = …  (same length: `const` becomes `var  `)
 *                       class C {…}       ->  var C = class C {…};
 *                       var, function     ->  as they are (eval code makes them globals already)
 *   in the await wrapper (everything there is local to the wrapper):
 *                       let/const/var x   ->  x = …  (keyword blanked; a pattern is wrapped `;(…)`)
 *                       class C {…}       ->  C = class C {…};
 *                       function f() {}   ->  as it is, plus `globalThis.f = f;` at the wrapper's start
 *   a `let x` without a value gets ` = void 0`, so running the cell again resets it.
 *
 * What changes: const bindings can be assigned, and a class is `undefined`
 * rather than in its temporal dead zone before its declaration.
 *
 * No transform adds a line, so line numbers stay; the columns it shifts are
 * recorded for cell-error.ts to map stack positions back.
 */
import { parse, type Node, type Options, type Position, type Program } from 'acorn'
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

export interface PrepareOptions {
  /** The cell runs in a session: its top-level declarations become globals. */
  session?: boolean
}

/** Text put at `at` in place of `remove` characters (a same-length keyword swap, or an insertion). */
interface Edit {
  at: number
  remove: number
  text: string
}

const SCRIPT: Options = { ecmaVersion: 'latest', sourceType: 'script' }
const PREFIX = '(async () => {'
const RETURN = 'return ('

/**
 * @example
 *   prepareCell('const x = await f()\nx + 1').source
 *   // '(async () => {const x = await f()\nreturn (x + 1)\n})()\n//# sourceURL=cell.js'
 *   prepareCell('let y = 1', { session: true }).source // 'var y = 1\n//# sourceURL=cell.js'
 */
export function prepareCell(code: string, options: PrepareOptions = {}): PreparedCell {
  const parsed = options.session ? parseForSession(code) : parseTopLevelAwait(code)
  if (parsed === undefined) return { source: withSourceUrl(code), shifts: [] }
  const { program, wrap } = parsed
  const edits: Edit[] = []
  if (options.session) edits.push(...(wrap ? wrappedDeclarationEdits(program) : globalDeclarationEdits(program)))
  if (!wrap) return apply(code, edits, '')
  const last = program.body.at(-1)
  if (last?.type === 'ExpressionStatement') {
    edits.push({ at: last.start, remove: 0, text: RETURN }, { at: last.expression.end, remove: 0, text: ')' })
  }
  const exports = options.session ? functionNames(program).map((name) => `globalThis.${name} = ${name};`).join('') : ''
  return apply(code, edits, `${PREFIX}${exports}`, '\n})()')
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
function parseTopLevelAwait(code: string): { program: Program; wrap: true } | undefined {
  if (!code.includes('await')) return undefined
  try {
    parse(code, SCRIPT)
    return undefined
  } catch {
    try {
      return { program: parse(code, { ...SCRIPT, allowAwaitOutsideFunction: true }), wrap: true }
    } catch {
      return undefined
    }
  }
}

/** A session cell is always parsed: its declarations are rewritten whether or not it awaits. */
function parseForSession(code: string): { program: Program; wrap: boolean } | undefined {
  try {
    return { program: parse(code, SCRIPT), wrap: false }
  } catch {
    try {
      return { program: parse(code, { ...SCRIPT, allowAwaitOutsideFunction: true }), wrap: true }
    } catch {
      return undefined
    }
  }
}

/** Global code: let/const become var (already global and redeclarable in eval code), a class a var holding it. */
function globalDeclarationEdits(program: Program): Edit[] {
  const edits: Edit[] = []
  for (const statement of program.body) {
    if (statement.type === 'VariableDeclaration' && statement.kind !== 'var') {
      edits.push({ at: statement.start, remove: statement.kind.length, text: 'var'.padEnd(statement.kind.length) })
      if (statement.kind === 'let') edits.push(...resets(statement.declarations))
    } else if (statement.type === 'ClassDeclaration') {
      edits.push(...classEdits(statement, 'var '))
    }
  }
  return edits
}

/** Inside the await wrapper: declarations become assignments to (sloppy-mode) globals. */
function wrappedDeclarationEdits(program: Program): Edit[] {
  const edits: Edit[] = []
  for (const statement of program.body) {
    if (statement.type === 'VariableDeclaration') {
      edits.push({ at: statement.start, remove: statement.kind.length, text: ' '.repeat(statement.kind.length) })
      const { declarations } = statement
      // `{a} = o` at the start of a statement is a block, and `[a] = o` may continue the line before.
      const patterned = declarations.some((d) => d.id.type !== 'Identifier')
      if (patterned) edits.push({ at: declarations[0]!.start, remove: 0, text: ';(' })
      if (statement.kind === 'let') edits.push(...resets(declarations))
      if (patterned) edits.push({ at: declarations.at(-1)!.end, remove: 0, text: ')' })
    } else if (statement.type === 'ClassDeclaration') {
      edits.push(...classEdits(statement, ''))
    }
  }
  return edits
}

function resets(declarations: readonly { id: Node; init?: Node | null }[]): Edit[] {
  return declarations.filter((d) => !d.init).map((d) => ({ at: d.id.end, remove: 0, text: ' = void 0' }))
}

function classEdits(statement: Node & { id: { name: string } | null; end: number }, keyword: string): Edit[] {
  const name = statement.id!.name
  // The statement is now an expression: the `;` keeps a following `(` or `[` from continuing it.
  return [{ at: statement.start, remove: 0, text: `${keyword}${name} = ` }, { at: statement.end, remove: 0, text: ';' }]
}

function functionNames(program: Program): string[] {
  return program.body.flatMap((s) => (s.type === 'FunctionDeclaration' && s.id ? [s.id.name] : []))
}

/** Applies the edits (in source order) between a prefix and a suffix; insertions become column shifts. */
function apply(code: string, edits: Edit[], prefix: string, suffix = ''): PreparedCell {
  edits.sort((a, b) => a.at - b.at)
  const lineStarts = [0]
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1)
  const shifts: ColumnShift[] = prefix ? [{ line: 1, column: 0, delta: prefix.length }] : []
  let body = ''
  let from = 0
  for (const edit of edits) {
    body += code.slice(from, edit.at) + edit.text
    from = edit.at + edit.remove
    const delta = edit.text.length - edit.remove
    if (delta > 0) {
      const line = upperBound(lineStarts, edit.at)
      shifts.push({ line, column: edit.at - lineStarts[line - 1]!, delta })
    }
  }
  body += code.slice(from)
  return { source: withSourceUrl(`${prefix}${body}${suffix}`), shifts }
}

/** The 1-based line of a position: how many line starts are at or before it. */
function upperBound(lineStarts: number[], at: number): number {
  let low = 0
  let high = lineStarts.length
  while (low < high) {
    const mid = (low + high) >> 1
    if (lineStarts[mid]! <= at) low = mid + 1
    else high = mid
  }
  return low
}

// A cell ending in a line comment must not swallow the sourceURL: hence the newline.
function withSourceUrl(code: string): string {
  return `${code}\n//# sourceURL=${CELL_FILENAME}`
}
