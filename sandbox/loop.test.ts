/**
 * The sandbox loop with real isolates, over a memory transport; the test
 * plays the dispatcher. One fixture per way a cell can end; after each, the
 * same loop and slot must serve the next job correctly.
 *
 *   test (dispatcher)                  serveSandbox (1 slot)
 *        <-- credit {1} ---------------
 *        --- run {job} --------------->  fresh context in the slot's isolate
 *        <-- started, output… ---------
 *        <-- end {status…}, credit {1} -  the slot is free again
 *        --- run {1+1} --------------->  must end done with 2
 */
import objectInspect from 'object-inspect'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_OUTPUT_CHUNK, outputCost, sandboxMessageSchema, type Limits } from '../protocol/index.ts'
import * as cells from '../test/support/fixtures/cells.ts'
import { testJob } from '../test/support/jobs.ts'
import { MemoryDispatcher, type JobRecord, type OutputMessage } from '../test/support/sandbox-harness.ts'

const dispatcher = new MemoryDispatcher(1)
afterAll(() => dispatcher.close())

const run = (code: string, limits: Partial<Limits> = {}): Promise<JobRecord> => dispatcher.run(testJob(code, { limits }))

async function expectNextJobWorks(): Promise<void> {
  const { end, outputs } = await run('1 + 1')
  expect(end).toMatchObject({ status: 'done', result: { text: '2', json: 2 } })
  expect(outputs).toEqual([])
}

describe('sandbox loop: protocol', () => {
  it('offers its slots first, and every message it sends is valid', async () => {
    const { messages } = await run('1')
    expect(dispatcher.batches[0]?.[0]).toEqual({ type: 'credit', credits: 1 })
    expect(messages.map((m) => m.type)).toEqual(['started', 'end'])
    for (const message of dispatcher.messages) expect(sandboxMessageSchema.safeParse(message).success).toBe(true)
  })

  it('sends the end and the new credit in one batch', async () => {
    const { end } = await run('2')
    const batch = dispatcher.batches.find((b) => b.includes(end))
    // A quick job may share the batch with its `started`; the end and the credit always go together.
    const types = batch?.map((m) => m.type) ?? []
    expect(types.slice(types.indexOf('end'))).toEqual(['end', 'credit'])
  })
})

describe('sandbox loop: a cell that', () => {
  it('succeeds: console output, one display output per mime, the last value, usage', async () => {
    const { end, outputs } = await run(cells.succeeds)
    expect(end).toMatchObject({ status: 'done', result: { text: '42', json: 42 } })
    expect(outputs).toEqual([
      { stream: 'stdout', mime: 'text/plain', data: "hello { a: [ 1, 2 ] }\n" },
      { stream: 'stderr', mime: 'text/plain', data: 'careful\n' },
      { stream: 'display', mime: 'text/plain', data: 'plain' },
      { stream: 'display', mime: 'text/html', data: '<b>bold</b>' },
      { stream: 'display', mime: 'application/json', data: '{"ok":true}' },
      { stream: 'display', mime: 'image/svg+xml', data: '<svg xmlns="http://www.w3.org/2000/svg"/>' },
      { stream: 'display', mime: 'image/png', data: 'iVBORw0KGgo=' },
      { stream: 'display', mime: 'application/json', data: '[1,2,3]' },
    ])
    // Each output as output-bytes.ts counts it, and the result's text and JSON ('42' twice).
    const bytes = outputs.reduce((sum, o) => sum + outputCost(o.data), 0) + 4
    expect(end.usage).toMatchObject({ outputBytes: bytes })
    expect(end.usage.cpuMs).toBeGreaterThan(0)
    // heapBytes is the cell's own growth, 0 when a collection ran during a cell this short: memory.test.ts checks it.
    await expectNextJobWorks()
  })

  it('logs, waits, logs: the first output is sent before the job ends', async () => {
    const job = testJob(cells.logsThenWaits)
    const first = dispatcher.next((m): m is OutputMessage => m.type === 'output' && m.jobId === job.jobId)
    const ended = dispatcher.run(job)
    expect((await first).output.data).toBe('first\n')
    expect(dispatcher.messages.some((m) => m.type === 'end' && m.jobId === job.jobId)).toBe(false)
    const { end, outputs } = await ended
    expect(end).toMatchObject({ status: 'done', result: { text: "'done'" } })
    expect(outputs.map((o) => o.data)).toEqual(['first\n', 'second\n'])
    await expectNextJobWorks()
  })

  it('throws: the stack points into the cell, with the right lines', async () => {
    const { end } = await run(cells.throws)
    expect(end.status).toBe('error')
    expect(end.error).toMatchObject({ name: 'TypeError', message: 'bad input' })
    expect(end.error?.stack).toBe('TypeError: bad input\n    at inner (cell.js:2:9)\n    at cell.js:4:1')
    await expectNextJobWorks()
  })

  it('throws a number or an object: shown as the REPL shows them', async () => {
    expect((await run(cells.throwsNumber)).end.error).toEqual({ name: 'Uncaught', message: '42' })
    expect((await run(cells.throwsObject)).end.error).toEqual({ name: 'Uncaught', message: '{ x: 1 }' })
    await expectNextJobWorks()
  })

  it('has a syntax error: SyntaxError with its line', async () => {
    const { end } = await run(cells.syntaxError)
    expect(end.status).toBe('error')
    expect(end.error?.name).toBe('SyntaxError')
    expect(end.error?.stack).toMatch(/\n {4}at cell\.js:2:\d+$/)
    await expectNextJobWorks()
  })

  it('loops forever: stopped at its CPU limit', async () => {
    const { end } = await run(cells.loopsForever, { cpuMs: 100 })
    expect(end).toMatchObject({ status: 'timeout', error: { name: 'CpuLimitExceeded' } })
    expect(end.usage.cpuMs).toBeGreaterThanOrEqual(100)
    await expectNextJobWorks()
  })

  it('loops forever in a promise callback: stopped at its wall time limit', async () => {
    const { end } = await run(cells.loopsInPromise, { wallMs: 200 })
    expect(end).toMatchObject({ status: 'timeout', error: { name: 'WallTimeExceeded' } })
    await expectNextJobWorks()
  })

  it('loops forever in a timer callback: stopped too', async () => {
    const { end } = await run(cells.loopsInTimer, { wallMs: 200 })
    expect(end).toMatchObject({ status: 'timeout', error: { name: 'WallTimeExceeded' } })
    await expectNextJobWorks()
  })

  it('allocates without end: MemoryLimitExceeded, and a new isolate serves the next job', async () => {
    const { end } = await run(cells.allocatesForever, { memoryMb: 16 })
    expect(end).toMatchObject({ status: 'error', error: { name: 'MemoryLimitExceeded' } })
    await expectNextJobWorks()
  })

  it('floods output: stopped with OutputLimitExceeded, having sent no more than its limit', async () => {
    const { end, outputs } = await run(cells.floodsOutput, { outputBytes: 10_000 })
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    expect(end.error?.message).toContain('10000 bytes')
    // The sandbox counts each output it made; its outbox may have joined some of them on the way, so fewer overheads arrive.
    const counted = outputs.reduce((sum, o) => sum + outputCost(o.data), 0)
    expect(outputs.length).toBeGreaterThan(0)
    expect(counted).toBeLessThanOrEqual(end.usage.outputBytes)
    expect(end.usage.outputBytes).toBeLessThanOrEqual(10_000)
    await expectNextJobWorks()
  })

  it('writes more than one chunk at once: split into protocol-sized outputs', async () => {
    const { end, outputs } = await run(`console.log('x'.repeat(${MAX_OUTPUT_CHUNK + 10}))`)
    expect(end.status).toBe('done')
    expect(outputs.length).toBe(2)
    for (const output of outputs) expect(output.data.length).toBeLessThanOrEqual(MAX_OUTPUT_CHUNK)
    expect(outputs.map((o) => o.data).join('')).toBe(`${'x'.repeat(MAX_OUTPUT_CHUNK + 10)}\n`)
  })

  it('logs in a loop: lines written in one tick travel as few outputs', async () => {
    const { end, outputs } = await run('for (let i = 0; i < 100; i++) console.log(i)')
    expect(end.status).toBe('done')
    expect(outputs.length).toBeLessThan(100)
    expect(outputs.map((o) => o.data).join('')).toBe(Array.from({ length: 100 }, (_, i) => `${i}\n`).join(''))
  })

  it('is cancelled while it loops: ends cancelled', async () => {
    const job = testJob(cells.loopsForever)
    const ended = dispatcher.run(job)
    await dispatcher.next((m) => m.type === 'started' && m.jobId === job.jobId)
    dispatcher.send({ type: 'cancel', jobId: job.jobId })
    expect((await ended).end.status).toBe('cancelled')
    await expectNextJobWorks()
  })

  it('leaves a promise rejected and unhandled: ends with that error', async () => {
    const { end } = await run(cells.unhandledRejection)
    expect(end).toMatchObject({ status: 'error', error: { name: 'RangeError', message: 'nobody catches this' } })
    expect(end.error?.stack).toContain('at cell.js:1:')
    await expectNextJobWorks()
  })

  it('leaves a promise rejected with a huge non-error value: its end is cut to what the protocol allows', async () => {
    const { end } = await run(cells.rejectsWithHugeValue)
    expect(end).toMatchObject({ status: 'error', error: { name: 'UnhandledRejection' } })
    expect(end.error!.message).toBe('x'.repeat(64 * 1024))
    // As the dispatcher validates it: a message over the bounds would be refused, and the cell left running.
    expect(sandboxMessageSchema.safeParse(end).success).toBe(true)
    await expectNextJobWorks()
  })

  it('awaits a promise nothing can settle: ends at once with UnsettledAwait', async () => {
    const { end } = await run(cells.awaitsForever, { wallMs: 60_000 })
    expect(end).toMatchObject({ status: 'error', error: { name: 'UnsettledAwait' } })
    await expectNextJobWorks()
  })
})

describe('sandbox loop: a cell that tries to escape', () => {
  for (const [route, code] of Object.entries(cells.escapes)) {
    it(`through ${route}: finds no Node API`, async () => {
      const { end } = await run(code)
      expect(end.status).toBe('done')
      expect(end.result?.text).not.toMatch(/object|function/)
    })
  }

  it('pollutes prototypes and globals: the next job sees none of it', async () => {
    expect((await run(cells.pollutes)).end.status).toBe('done')
    const { end, outputs } = await run(cells.checksPollution)
    expect(end.result?.json).toBe('undefined,undefined,undefined,undefined')
    expect(outputs).toEqual([{ stream: 'stdout', mime: 'text/plain', data: 'clean\n' }])
  })

  it('leaves a timer behind: it never fires, neither after the end nor in the next job', async () => {
    const { end } = await run(cells.timerOutlivesJob)
    expect(end).toMatchObject({ status: 'error', error: { message: 'ending now' } })
    const next = await run('await new Promise((resolve) => setTimeout(resolve, 150)); 1 + 1')
    expect(next.end).toMatchObject({ status: 'done', result: { json: 2 } })
    expect(next.outputs).toEqual([])
    expect(dispatcher.messages.filter((m) => m.type === 'output' && m.output.data.includes('too late'))).toEqual([])
  })
})

describe('sandbox loop: timers and top-level await', () => {
  it('awaits at the top level and returns the last expression', async () => {
    expect((await run(cells.topLevelAwait)).end).toMatchObject({ status: 'done', result: { text: '21', json: 21 } })
  })

  it('keeps line and column numbers in a cell with top-level await', async () => {
    const { end } = await run(cells.topLevelAwaitThrows)
    expect(end.error?.stack).toBe('Error: after await\n    at cell.js:2:7')
    const sameLine = await run(`await null; throw new Error('x')`)
    expect(sameLine.end.error?.stack).toBe('Error: x\n    at cell.js:1:19')
  })

  it('runs an interval until it is cleared, then ends', async () => {
    const { end, outputs } = await run(cells.intervalCleared)
    expect(end.status).toBe('done')
    expect(outputs.map((o) => o.data).join('')).toBe('tick 1\ntick 2\ntick 3\n')
  })
})

describe('sandbox loop: the last expression, as a REPL shows it', () => {
  const cases: [code: string, result: { text: string; json?: unknown } | undefined][] = [
    ['1 + 1', { text: '2', json: 2 }],
    ["'a'", { text: "'a'", json: 'a' }],
    ['({ a: 1 })', { text: '{ a: 1 }', json: { a: 1 } }],
    ['[1, "two", null]', { text: "[ 1, 'two', null ]", json: [1, 'two', null] }],
    ['undefined', undefined],
    ['let quiet = 1', undefined],
    ['(function named() {})', { text: '[Function: named]' }],
    ["Symbol('s')", { text: 'Symbol(s)' }],
    ['10n ** 20n', { text: '100000000000000000000n' }],
    ['NaN', { text: 'NaN' }],
    ['new Map([[1, 2]])', { text: 'Map (1) {1 => 2}' }],
    ['Promise.resolve(7)', { text: '7', json: 7 }],
    ['await Promise.resolve(5)', { text: '5', json: 5 }],
    ['if (true) { "from a block" }', { text: "'from a block'", json: 'from a block' }],
  ]
  for (const [code, result] of cases) {
    it(`${code} -> ${result?.text ?? 'no result'}`, async () => {
      const { end } = await run(code)
      expect(end.status).toBe('done')
      expect(end.result).toEqual(result)
    })
  }

  it('quotes strings exactly as object-inspect does', async () => {
    const text = "it's a \\ \n\t\u0001 test"
    const { end } = await run(JSON.stringify(text))
    expect(end.result?.text).toBe(objectInspect(text))
  })
})

describe('sandbox loop with two slots', () => {
  it('runs a quick job while another loops, and both end', async () => {
    const pair = new MemoryDispatcher(2)
    try {
      const slow = pair.run(testJob(cells.loopsForever, { limits: { wallMs: 300 } }))
      const quick = await pair.run(testJob('1 + 1'))
      expect(quick.end.status).toBe('done')
      expect(pair.messages.some((m) => m.type === 'end' && m.status === 'timeout')).toBe(false)
      expect((await slow).end.status).toBe('timeout')
      expect(pair.messages[0]).toEqual({ type: 'credit', credits: 2 })
    } finally {
      await pair.close()
    }
  })
})
