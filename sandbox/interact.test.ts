/**
 * Interacts in the sandbox loop, with real isolates over a memory transport;
 * the test plays the dispatcher, and a page moving a control.
 *
 *   test (dispatcher)                                   serveSandbox
 *        --- run {session S, cell 1: interact(…)} --->  registers fn under id
 *        <-- output {display, interact+json {id, controls}}
 *        <-- output {display, first call's value}, end
 *        --- run {session S, cell 2: __cellgate_interact(id, values)} -->
 *        <-- output {display, value with the new values}, end
 */
import { afterAll, describe, expect, it } from 'vitest'
import { testJob } from '../test/support/jobs.ts'
import { MemoryDispatcher, type JobRecord } from '../test/support/sandbox-harness.ts'
import { INTERACT_MIME } from './isolate/interact.ts'

const dispatcher = new MemoryDispatcher(1)
afterAll(() => dispatcher.close())

let sessionCounter = 0
function newSession(): (code: string) => Promise<JobRecord> {
  const id = `interact-${process.pid}-${++sessionCounter}`
  let cell = 0
  return (code) => dispatcher.run(testJob(code, { session: { id, cell: ++cell } }))
}

interface InteractData {
  id: string
  controls: Record<string, unknown>[]
}

function interactOf(record: JobRecord): InteractData {
  const output = record.outputs.find((o) => o.mime === INTERACT_MIME)
  expect(output?.stream).toBe('display')
  return JSON.parse(output!.data) as InteractData
}

const shown = (record: JobRecord) => record.outputs.filter((o) => o.mime !== INTERACT_MIME).map((o) => o.data)

describe('interact', () => {
  it('emits its controls, calls the function once, and calls it again with new values in the same session', async () => {
    const cell = newSession()
    const first = await cell(`interact({
      n: slider(1, 100, 1, 10), name: text('x'), on: checkbox(true), pick: select(['a', 'b']), go: button('Go'),
    }, ({ n, name, on, pick, go }) => { console.log(name, on, pick, go); return n * 2 })`)
    expect(first.end.status).toBe('done')
    const { id, controls } = interactOf(first)
    expect(controls).toEqual([
      { kind: 'slider', name: 'n', label: 'n', min: 1, max: 100, step: 1, value: 10 },
      { kind: 'text', name: 'name', label: 'name', value: 'x' },
      { kind: 'checkbox', name: 'on', label: 'on', value: true },
      { kind: 'select', name: 'pick', label: 'pick', options: ['a', 'b'], value: 'a' },
      { kind: 'button', name: 'go', label: 'Go', value: 0 },
    ])
    // The controls come first; the call's console output and its value follow.
    expect(first.outputs[0]!.mime).toBe(INTERACT_MIME)
    expect(shown(first)).toEqual(['x true a 0\n', '20'])

    const again = await cell(`__cellgate_interact(${JSON.stringify(id)}, ${JSON.stringify({ n: 11, pick: 'b', go: 1 })})`)
    expect(again.end).toMatchObject({ status: 'done' })
    expect(again.end.result).toBeUndefined()
    expect(shown(again)).toEqual(['x true b 1\n', '22'])
  })

  it('awaits an async function, and says so when an interact is unknown to the session', async () => {
    const cell = newSession()
    const first = await cell('interact({ s: text("hi") }, async ({ s }) => s.toUpperCase())')
    expect(shown(first)).toEqual(['HI'])
    const { id } = interactOf(first)
    expect(shown(await cell(`__cellgate_interact(${JSON.stringify(id)}, { s: 'yo' })`))).toEqual(['YO'])

    const other = newSession()
    const missing = await other(`__cellgate_interact(${JSON.stringify(id)}, {})`)
    expect(missing.end).toMatchObject({ status: 'error', error: { name: 'ReferenceError' } })
  })

  it('rejects what is not a control', async () => {
    const record = await dispatcher.run(testJob('interact({ n: 5 }, () => 1)'))
    expect(record.end).toMatchObject({ status: 'error', error: { name: 'TypeError', message: expect.stringContaining('"n" is not a control') } })
    const slider = await dispatcher.run(testJob('slider(5, 1)'))
    expect(slider.end).toMatchObject({ status: 'error', error: { name: 'RangeError' } })
  })
})
