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
    ])
  })

  it('returns nothing when the last statement is not an expression', () => {
    expect(prepareCell('await f()\nlet y = 1').source).toBe(`(async () => {await f()\nlet y = 1\n})()${SOURCE_URL}`)
  })

  it('leaves code that does not parse to V8, which reports the error', () => {
    expect(prepareCell('await (').source).toBe(`await (${SOURCE_URL}`)
  })
})
