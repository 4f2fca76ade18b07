/**
 * Display helpers in the sandbox loop, with real isolates over a memory
 * transport: each call is one `display` output of its mime.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { testJob } from '../test/support/jobs.ts'
import { MemoryDispatcher } from '../test/support/sandbox-harness.ts'
import { TABLE_MIME } from './isolate/display.ts'

const dispatcher = new MemoryDispatcher(1)
afterAll(() => dispatcher.close())

describe('display.table', () => {
  it('takes rows of objects, with columns in order of first appearance and missing cells null', async () => {
    const record = await dispatcher.run(testJob("display.table([{ name: 'a', n: 1 }, { name: 'b', extra: true }, { n: 2n }])"))
    expect(record.end.status).toBe('done')
    expect(record.outputs).toHaveLength(1)
    expect(record.outputs[0]).toMatchObject({ stream: 'display', mime: TABLE_MIME })
    expect(JSON.parse(record.outputs[0]!.data)).toEqual({
      columns: ['name', 'n', 'extra'],
      rows: [['a', 1, null], ['b', null, true], [null, '2n', null]],
    })
  })

  it('takes rows of arrays, and names columns when told', async () => {
    const record = await dispatcher.run(testJob("display.table([[1, 'x'], [2, { y: 1 }]], ['id', 'what'])"))
    expect(JSON.parse(record.outputs[0]!.data)).toEqual({ columns: ['id', 'what'], rows: [[1, 'x'], [2, '{ y: 1 }']] })
  })

  it('refuses what is not rows, as an error of the cell', async () => {
    const record = await dispatcher.run(testJob("display.table('nope')"))
    expect(record.end.status).toBe('error')
    expect(record.end.error).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/array of rows/) })
  })
})
