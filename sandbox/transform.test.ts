/**
 * prepareCell: which cells are wrapped for top-level await, and how the
 * wrapper keeps line numbers.
 */
import { describe, expect, it } from 'vitest'
import { prepareCell } from './transform.ts'

const SOURCE_URL = '\n//# sourceURL=cell.js'

describe('prepareCell', () => {
  it('leaves code without top-level await as it is', () => {
    expect(prepareCell('1 + 1')).toEqual({ source: `1 + 1${SOURCE_URL}`, shifts: [] })
    const asyncInside = 'async function f() { await 1 }\nf()'
    expect(prepareCell(asyncInside).source).toBe(`${asyncInside}${SOURCE_URL}`)
    expect(prepareCell('var await = 1\nawait').shifts).toEqual([])
  })

  it('wraps top-level await on the first line and returns the last expression', () => {
    const prepared = prepareCell('const x = await f()\nx + 1;')
    expect(prepared.source).toBe(`(async () => {const x = await f()\nreturn (x + 1);\n})()${SOURCE_URL}`)
    expect(prepared.source.split('\n').slice(0, 2)).toHaveLength(2)
    expect(prepared.shifts).toEqual([
      { line: 1, column: 0, delta: 14 },
      { line: 2, column: 0, delta: 8 },
      { line: 2, column: 5, delta: 1 },
    ])
  })

  it('returns nothing when the last statement is not an expression', () => {
    expect(prepareCell('await f()\nlet y = 1').source).toBe(`(async () => {await f()\nlet y = 1\n})()${SOURCE_URL}`)
  })

  it('leaves code that does not parse to V8, which reports the error', () => {
    expect(prepareCell('await (').source).toBe(`await (${SOURCE_URL}`)
  })
})

describe('prepareCell in a session', () => {
  const session = { session: true }
  const source = (code: string) => prepareCell(code, session).source.slice(0, -SOURCE_URL.length)

  it('turns top-level let, const and class into globals, keeping lengths where it can', () => {
    expect(source('let a = 1, b\nconst c = 2\nclass C {}\n(1)')).toBe('var a = 1, b = void 0\nvar   c = 2\nvar C = class C {};\n(1)')
    expect(prepareCell('const c = 2', session).shifts).toEqual([])
    expect(prepareCell('let a = 1, b', session).shifts).toEqual([{ line: 1, column: 12, delta: 9 }])
  })

  it('leaves var, function and declarations below the top level as they are', () => {
    const code = 'var v = 1\nfunction f() { let inner = 2; return inner }\n{ let block = 3 }\nfor (let i = 0; i < 1; i++) {}'
    expect(source(code)).toBe(code)
  })

  it('in the await wrapper, makes declarations assignments and exports functions', () => {
    expect(source('const x = await f()\nlet { a, b: [c] } = o\nfunction g() {}\nclass K {}\nx'))
      .toBe('(async () => {globalThis.g = g;      x = await f()\n    ;({ a, b: [c] } = o)\nfunction g() {}\nK = class K {};\nreturn (x)\n})()')
  })

  it('records the shifts of each line in source order', () => {
    expect(prepareCell('await 1; let q\nclass K {}', session).shifts).toEqual([
      { line: 1, column: 0, delta: 14 },
      { line: 1, column: 14, delta: 9 },
      { line: 2, column: 0, delta: 4 },
      { line: 2, column: 10, delta: 1 },
    ])
  })
})
