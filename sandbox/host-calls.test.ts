/**
 * Cells that flood the host with calls, with real isolates over a memory
 * transport (the test plays the dispatcher). Each call a cell makes is
 * queued to the sandbox's one thread, which takes them all before its
 * timers run; without budgets these cells held the whole process until the
 * dispatcher killed it. Each must end by itself, with its own error, while
 * a neighbour in the other slot ends as it would alone, and the same loop
 * then serves the next job.
 *
 *   test (dispatcher)                 serveSandbox (2 slots, one process)
 *        --- run {flood} ---------->   slot 1: posts without end
 *        --- run {neighbour} ------>   slot 2: a 50 ms timer, then a value
 *        <-- end {neighbour: done} -
 *        <-- end {flood: error …} --   stopped by its budget, not by a kill
 *        --- run {1 + 1} ---------->   must end done with 2
 */
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, jsonBytes, type Limits } from '../protocol/index.ts'
import * as cells from '../test/support/fixtures/cells.ts'
import { testJob } from '../test/support/jobs.ts'
import { MemoryDispatcher, type JobRecord } from '../test/support/sandbox-harness.ts'
import { MIN_FIRE_GAP_MS } from './host-timers.ts'
import { MAX_TIMER_CALLS } from './isolate/timers.ts'

const dispatcher = new MemoryDispatcher(2)
afterAll(() => dispatcher.close())

const run = (code: string, limits: Partial<Limits> = {}): Promise<JobRecord> => dispatcher.run(testJob(code, { limits }))
const neighbour = `await new Promise((resolve) => setTimeout(resolve, 50)); console.log('beside'); 'neighbour'`

/** Runs `code` beside an ordinary cell in the other slot; both must end, and the next job must work. */
async function runBesideNeighbour(code: string, limits: Partial<Limits> = {}): Promise<JobRecord> {
  const hostile = run(code, limits)
  const ordinary = await run(neighbour)
  expect(ordinary.end).toMatchObject({ status: 'done', result: { text: "'neighbour'" } })
  expect(ordinary.outputs.map((o) => o.data)).toEqual(['beside\n'])
  const record = await hostile
  expect((await run('1 + 1')).end).toMatchObject({ status: 'done', result: { json: 2 } })
  return record
}

describe('a cell that floods the host with calls', () => {
  it('sets and clears timers without end: TimerLimitExceeded, before its wall limit, in bounded memory', async () => {
    const rssBefore = process.memoryUsage().rss
    const { end } = await runBesideNeighbour(cells.setsAndClearsTimersForever)
    expect(end).toMatchObject({ status: 'error', error: { name: 'TimerLimitExceeded' } })
    expect(end.error?.message).toContain(`more than ${MAX_TIMER_CALLS} timers`)
    // Stopped by its budget, so well within its time (the process used to grow ~200 MB/s until killed).
    expect(end.usage.wallMs).toBeLessThan(DEFAULT_LIMITS.wallMs)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024)
  })

  it('sets timers until refused and keeps asking: stopped at its CPU limit, on time', async () => {
    const { end } = await runBesideNeighbour(cells.setsTimersForever, { cpuMs: 200 })
    expect(end).toMatchObject({ status: 'timeout', error: { name: 'CpuLimitExceeded' } })
    expect(end.usage.cpuMs / 200).toBeLessThan(2)
  })

  it('displays without end: OutputLimitExceeded at its output count', async () => {
    const { end, outputs } = await runBesideNeighbour(cells.displaysForever)
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    expect(end.error?.message).toContain(`${DEFAULT_LIMITS.outputs} outputs`)
    expect(outputs.length).toBe(DEFAULT_LIMITS.outputs)
  })

  it('makes 150,000 empty outputs: OutputLimitExceeded, not a finished cell with all of them', async () => {
    const { end, outputs } = await runBesideNeighbour(cells.displaysManyEmptyOutputs)
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    expect(outputs.length).toBe(DEFAULT_LIMITS.outputs)
  })

  it('counts an output as at least its overhead: many empty outputs reach the byte limit too', async () => {
    const { end, outputs } = await run(cells.displaysManyEmptyOutputs, { outputBytes: 10_000 })
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    expect(end.error?.message).toContain('10000 bytes')
    expect(outputs.length).toBe(100) // 10,000 bytes / 100 bytes of overhead each
  })

  it('logs empty lines without end: its writes are joined, and it stops at its byte limit', async () => {
    const { end, outputs } = await runBesideNeighbour(cells.logsEmptyLinesForever)
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    expect(end.usage.outputBytes).toBeLessThanOrEqual(DEFAULT_LIMITS.outputBytes)
    // One line of 2 JSON bytes each would be ~500,000 calls; joined, they are far fewer.
    expect(outputs.length).toBeLessThan(DEFAULT_LIMITS.outputs)
  })

  it('logs control characters: what it sends as JSON stays within its byte limit', async () => {
    const { end, outputs } = await run(cells.logsControlCharacters, { outputBytes: 100_000 })
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    const sent = outputs.reduce((sum, o) => sum + jsonBytes(o.data), 0)
    expect(sent).toBeLessThanOrEqual(100_000)
    expect(sent).toBeGreaterThan(0)
  })
})

describe('a cell with a storm of timers', () => {
  it('runs 9,990 intervals of 1 ms: a neighbour\'s cells stay within a small factor of their quiet time', async () => {
    const median = async (): Promise<number> => {
      const times: number[] = []
      for (let i = 0; i < 21; i++) {
        const start = performance.now()
        await run('1 + 1')
        times.push(performance.now() - start)
      }
      return times.sort((a, b) => a - b)[10]!
    }
    const quiet = await median()
    const storm = run('for (let i = 0; i < 9990; i++) setInterval(() => {}, 1)', { wallMs: 3000 })
    await run('await new Promise((resolve) => setTimeout(resolve, 100))') // the storm is under way
    const stormy = await median()
    expect((await storm).end).toMatchObject({ status: 'timeout', error: { name: 'WallTimeExceeded' } })
    // A timer call each: 4 -> 177 ms at p50 (and ~200 times here). Fired together, 4 ms apart: a few times.
    expect(stormy / quiet).toBeLessThan(25)
  })

  it('runs 9,990 intervals of 1 ms: fired together, at most every MIN_FIRE_GAP_MS, until its wall limit', async () => {
    const { end, outputs } = await runBesideNeighbour(cells.intervalStorm, { wallMs: 1000 })
    expect(end).toMatchObject({ status: 'timeout', error: { name: 'WallTimeExceeded' } })
    const { ticks, ms } = JSON.parse(outputs[0]!.data) as { ticks: number; ms: number }
    expect(ticks).toBeGreaterThan(0)
    expect(ticks).toBeLessThanOrEqual(ms / MIN_FIRE_GAP_MS + 1)
  })

  it('keeps timers in order of when they are due, whichever was set first', async () => {
    const code = `const order = []
setTimeout(() => order.push('b'), 30)
setTimeout(() => order.push('a'), 10)
setTimeout(() => order.push('c'), 30)
await new Promise((resolve) => setTimeout(resolve, 60))
order.join('')`
    expect((await run(code)).end).toMatchObject({ status: 'done', result: { json: 'abc' } })
  })
})

describe('a cell whose result is too large', () => {
  it('returns a 5 MB string under a 1 MB output limit: OutputLimitExceeded', async () => {
    const { end } = await run(cells.returnsHugeString)
    expect(end).toMatchObject({ status: 'error', error: { name: 'OutputLimitExceeded' } })
    expect(end.result).toBeUndefined()
  })

  it('has room for its result text but not its JSON too: gets the text only', async () => {
    const value = 'x'.repeat(6_000)
    const { end } = await run(`'${value}'`, { outputBytes: 10_000 })
    expect(end).toMatchObject({ status: 'done', result: { text: `'${value}'` } })
    expect(end.result).not.toHaveProperty('json')
    expect(end.usage.outputBytes).toBe(6_002)
  })
})
