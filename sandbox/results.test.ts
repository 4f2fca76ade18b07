/**
 * What a cell's result and error say, with real isolates: `json` only where
 * JSON.parse gives back the very value (else the text alone), and a thrown
 * Error's name and message even when its other fields cannot be read.
 *
 *   test (dispatcher)                 serveSandbox (1 slot)
 *        --- run {({a: NaN})} ----->   end done, result {text: '{ a: NaN }'}, no json
 *        --- run {throw e} -------->   end error {name, message} of e, whatever its getters do
 */
import { afterAll, describe, expect, it } from 'vitest'
import * as cells from '../test/support/fixtures/cells.ts'
import { testJob } from '../test/support/jobs.ts'
import { MemoryDispatcher } from '../test/support/sandbox-harness.ts'

const dispatcher = new MemoryDispatcher(1)
afterAll(() => dispatcher.close())

const run = (code: string) => dispatcher.run(testJob(code))

describe('the result of a value JSON would change', () => {
  it("the issue's example, {a: NaN, m: Map, t: {toJSON}}: text only", async () => {
    const { end } = await run(`({ a: NaN, m: new Map([[1, 2]]), t: { toJSON() { return 'lie' } } })`)
    expect(end.status).toBe('done')
    expect(end.result).toEqual({ text: expect.stringContaining('NaN') as string })
  })

  for (const [name, code] of Object.entries(cells.unfaithfulJson)) {
    it(`${name}: text only`, async () => {
      const { end } = await run(code)
      expect(end.status).toBe('done')
      expect(end.result?.text).toBeTruthy()
      expect(end.result).not.toHaveProperty('json')
    })
  }
})

describe('the result of a value JSON keeps', () => {
  const cases: [code: string, json: unknown][] = [
    ['({ a: [1, "two", null, true], b: { c: -1.5 } })', { a: [1, 'two', null, true], b: { c: -1.5 } }],
    ['Object.assign(Object.create(null), { k: "v" })', { k: 'v' }],
    ['[[], {}, ""]', [[], {}, '']],
    ['"quote \\" and \\u0001"', 'quote " and \u0001'],
    // The same object twice is not a cycle.
    ['const shared = { n: 1 }; [shared, shared]', [{ n: 1 }, { n: 1 }]],
  ]
  for (const [code, json] of cases) {
    it(`${code}: its JSON`, async () => {
      const { end } = await run(code)
      expect(end).toMatchObject({ status: 'done', result: { json } })
    })
  }

  it('a value built by getters that would answer differently each time: text only', async () => {
    const { end } = await run(`let n = 0; ({ get v() { return ++n } })`)
    expect(end.result).not.toHaveProperty('json')
  })
})

describe('an error that cannot be read as it should', () => {
  it('a stack getter that throws: error Error with its message', async () => {
    const { end } = await run(cells.throwsBrokenError.stackGetterThrows)
    expect(end.status).toBe('error')
    expect(end.error).toEqual({ name: 'Error', message: 'm' })
  })

  it('a message getter that throws: its name, and a message saying so', async () => {
    const { end } = await run(cells.throwsBrokenError.messageGetterThrows)
    expect(end).toMatchObject({ status: 'error', error: { name: 'TypeError', message: 'an error whose message could not be read' } })
  })

  it('a name that is not a string: Error, with its message', async () => {
    const { end } = await run(cells.throwsBrokenError.nameNotAString)
    expect(end).toMatchObject({ status: 'error', error: { name: 'Error', message: 'm' } })
  })

  it('a proxy of an error: its name and message, read through the proxy', async () => {
    const { end } = await run(cells.throwsBrokenError.proxy)
    expect(end.status).toBe('error')
    expect(end.error).toEqual({ name: 'RangeError', message: 'm' })
  })

  it('a proxy whose every trap throws: still ends error', async () => {
    const { end } = await run(cells.throwsBrokenError.proxyThrowingEverywhere)
    expect(end).toMatchObject({ status: 'error', error: { name: 'Uncaught', message: 'a value that could not be shown' } })
    expect((await run('1 + 1')).end).toMatchObject({ status: 'done', result: { json: 2 } })
  })
})
