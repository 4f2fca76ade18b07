/**
 * Memory past a cell's memoryMb, in a real sandbox process (node
 * sandbox/main.ts, three slots and a session), with the test playing the
 * dispatcher over ZeroMQ. Each hog, in the V8 heap or outside it, must end
 * `error MemoryLimitExceeded` while the process lives on: a neighbour cell
 * running beside it ends `done` with its output, the session still answers
 * with its variables, and the next cell is served.
 *
 *   test ROUTER                                 node sandbox/main.ts
 *        --- run {neighbour: log, wait, log} -->  slot 1
 *        --- run {hog, memoryMb 64} ----------->  slot 2: heap read from the host (memory-watch.ts),
 *                                                 or refused in the isolate (isolate/memory-ledger.ts)
 *        <-- end {hog: error MemoryLimitExceeded}
 *        <-- end {neighbour: done, 42} ---------  before / after on stdout
 *        --- run {session: kept + 1} ---------->  the session's own isolate: 42
 *        --- run {1 + 1} ---------------------->  a slot again: done
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as cells from '../test/support/fixtures/cells.ts'
import { testJob } from '../test/support/jobs.ts'
import type { JobRecord } from '../test/support/sandbox-harness.ts'
import { ProcessDispatcher, startSandboxProcess, type SandboxProcess } from '../test/support/sandbox-process.ts'

/** (module (func (export "f") (result i32) i32.const 42)), and the same with a memory of its own: 1 page, at most 2, or no maximum. */
const WASM_HEADER = '0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00'
const WASM_BODY = '0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b'
const wasmCell = (memory: string) => `const bytes = new Uint8Array([${WASM_HEADER}, ${memory}${WASM_BODY}])
const { instance } = await WebAssembly.instantiate(bytes)
instance.exports.f()`

let sandbox: SandboxProcess
let jobs: ProcessDispatcher
const session = { id: `memory-session-${process.pid}`, cell: 0 }

beforeAll(async () => {
  sandbox = await startSandboxProcess(3)
  jobs = new ProcessDispatcher(sandbox)
  expect((await inSession('kept = 41')).end.status).toBe('done')
})
afterAll(() => sandbox.close())

function inSession(code: string, id = session.id, memoryMb = 64): Promise<JobRecord> {
  return jobs.run(testJob(code, { limits: { memoryMb }, session: { id, cell: ++session.cell } }))
}

const alive = (): boolean => sandbox.child.exitCode === null && sandbox.child.signalCode === null
const stdoutOf = (record: JobRecord): string => record.outputs.map((output) => output.data).join('')

describe('a cell that allocates without end, beside a neighbour and a session in the same process', () => {
  it.each(Object.entries(cells.memoryHogs))('%s: error MemoryLimitExceeded, and everything else carries on', async (_name, code) => {
    const neighbour = jobs.run(testJob(`console.log('before'); await new Promise((r) => setTimeout(r, 200)); console.log('after'); 40 + 2`))
    const hog = await jobs.run(testJob(code, { limits: { memoryMb: 64, wallMs: 30_000, cpuMs: 30_000 } }))
    expect(hog.end).toMatchObject({ status: 'error', error: { name: 'MemoryLimitExceeded', message: 'the cell used more than its memory limit of 64 MB' } })
    const beside = await neighbour
    expect(beside.end).toMatchObject({ status: 'done', result: { text: '42' } })
    expect(stdoutOf(beside)).toBe('before\nafter\n')
    expect((await inSession('kept + 1')).end.result?.text).toBe('42')
    expect((await jobs.run(testJob('1 + 1'))).end).toMatchObject({ status: 'done', result: { text: '2' } })
    expect(alive()).toBe(true)
  })
})

describe('a cell within its limit', () => {
  it('that churns through far more garbage than its limit is not stopped', async () => {
    // About 8 MB live at a time, 60 times over: V8, under a limit far above 64 MB, lets the garbage pile up past it.
    const code = `let cache = []; let n = 0; for (let round = 0; round < 60; round++) { cache = Array.from({ length: 1e5 }, (_, i) => ({ i, s: 'v' + i })); n += cache.length }; n`
    const { end } = await jobs.run(testJob(code, { limits: { memoryMb: 64, wallMs: 30_000, cpuMs: 30_000 } }))
    expect(end).toMatchObject({ status: 'done', result: { text: '6000000' } })
  })
})

describe('a session and memory', () => {
  it('made with memoryMb 8, cannot hold 64 MB outside the heap, in one cell or across many', async () => {
    const id = `${session.id}-small`
    const grow = `const b = new ArrayBuffer(0, { maxByteLength: 2 ** 22 }); b.resize(2 ** 22); held.push(b); held.length`
    expect((await inSession('held = []', id, 8)).end.status).toBe('done')
    const outcomes: string[] = []
    for (let cell = 0; cell < 16; cell++) {
      const { end } = await inSession(grow, id, 8)
      outcomes.push(end.status === 'done' ? end.result!.text : `${end.status} ${end.error?.name}`)
    }
    // 4 MB each: the first fits in 8 MB beside the rest of the ledger's count, and every later one is refused.
    expect(outcomes.filter((outcome) => outcome === 'error MemoryLimitExceeded').length).toBeGreaterThanOrEqual(14)
    const { end } = await inSession('held.reduce((total, b) => total + b.byteLength, 0) <= 8 * 2 ** 20', id, 8)
    expect(end.result?.text).toBe('true')
    // A refusal leaves the context as it was: the session lives on.
    expect(jobs.sessionsEnded).not.toContain(id)
    const wasm = await inSession('new WebAssembly.Memory({ initial: 1024 })', id, 8)
    expect(wasm.end).toMatchObject({ status: 'error', error: { name: 'MemoryLimitExceeded' } })
    const intl = await inSession(`for (let i = 0; i < 1000; i++) held.push(new Intl.NumberFormat('en'))`, id, 8)
    expect(intl.end).toMatchObject({ status: 'error', error: { name: 'MemoryLimitExceeded' } })
  })

  it('whose heap passes its limit ends, with the reason, and another session is untouched', async () => {
    const id = `${session.id}-heap`
    await inSession('x = 1', id, 16)
    const { end } = await inSession(cells.memoryHogs.map, id, 16)
    expect(end).toMatchObject({ status: 'error', error: { name: 'MemoryLimitExceeded' } })
    expect(jobs.sessionsEnded).toContain(id)
    expect((await inSession('kept')).end.result?.text).toBe('41')
    expect(alive()).toBe(true)
  })
})

describe('usage.heapBytes', () => {
  it("is the cell's own peak, not what earlier cells left for the collector", async () => {
    // Another memory limit, so a fresh isolate: what the cells above left for the collector is not in its first reading.
    const limits = { memoryMb: 96 }
    const big = await jobs.run(testJob(`const a = new Array(2e6).fill(1.5); await new Promise((r) => setTimeout(r, 100)); a.length`, { limits }))
    expect(big.end).toMatchObject({ status: 'done', result: { text: '2000000' } })
    // 2e6 doubles: 16 MB, held while the probe reads.
    expect(big.end.usage.heapBytes).toBeGreaterThan(15 * 2 ** 20)
    const after = await jobs.run(testJob('1 + 1', { limits }))
    expect(after.end.usage.heapBytes).toBeLessThan(2 ** 20)
  })
})

describe('what the ledger counts cannot be reached around', () => {
  const escapes: [name: string, code: string, error: string][] = [
    ['an instance’s constructor', `new (new ArrayBuffer(0)).constructor(0, { maxByteLength: 2 ** 26 }).resize(2 ** 26)`, 'MemoryLimitExceeded'],
    ['a subclass', `class Big extends ArrayBuffer {}; new Big(0, { maxByteLength: 2 ** 26 }).resize(2 ** 26)`, 'MemoryLimitExceeded'],
    // Read once: the buffer gets the maximum the ledger saw (0), and the resize is counted anyway.
    ['a maximum that answers 0, then 64 MB', `let n = 0; new ArrayBuffer(0, { get maxByteLength() { return n++ ? 2 ** 26 : 0 } }).resize(2 ** 26)`, 'MemoryLimitExceeded'],
    ['a Memory’s constructor', `new (new WebAssembly.Memory({ initial: 1 })).constructor({ initial: 1024 })`, 'MemoryLimitExceeded'],
    ['Intl called without new', `const kept = []; for (;;) kept.push(Intl.DateTimeFormat('en'))`, 'MemoryLimitExceeded'],
  ]
  it.each(escapes)('%s: still bounded', async (_name, code, error) => {
    const { end } = await jobs.run(testJob(code, { limits: { memoryMb: 16 } }))
    expect(end).toMatchObject({ status: 'error', error: { name: error } })
  })
})

describe('WebAssembly modules', () => {
  it('run, and a memory of their own counts at its declared maximum; one without a maximum is refused', async () => {
    expect((await jobs.run(testJob(wasmCell('')))).end).toMatchObject({ status: 'done', result: { text: '42' } })
    const bounded = await jobs.run(testJob(wasmCell('0x05, 0x04, 0x01, 0x01, 0x01, 0x02, ')))
    expect(bounded.end).toMatchObject({ status: 'done', result: { text: '42' } })
    const unbounded = await jobs.run(testJob(wasmCell('0x05, 0x03, 0x01, 0x00, 0x01, '), { limits: { memoryMb: 16 } }))
    expect(unbounded.end).toMatchObject({ status: 'error', error: { name: 'MemoryLimitExceeded' } })
  })
})

describe('a split into more parts than V8 can hold (which V8 answers by ending the process)', () => {
  it.each([
    ['String.prototype.split', "'x'.repeat(2 ** 28).split('')"],
    ['RegExp.prototype[Symbol.split]', "/(?:)/[Symbol.split]('x,'.repeat(2 ** 27), 2 ** 32 - 1)"],
    ['split by a string separator', "'x,'.repeat(2 ** 27).split(',')"],
  ])('%s ends the cell with an error; the process and its neighbours live on', async (_name, code) => {
    const neighbour = jobs.run(testJob(`await new Promise((r) => setTimeout(r, 200)); 40 + 2`))
    const bomb = await jobs.run(testJob(code, { limits: { memoryMb: 512, wallMs: 30_000, cpuMs: 30_000 } }))
    expect(bomb.end.status).toBe('error')
    expect(['RangeError', 'MemoryLimitExceeded']).toContain(bomb.end.error?.name)
    expect((await neighbour).end).toMatchObject({ status: 'done', result: { text: '42' } })
    expect((await inSession('kept + 1')).end.result?.text).toBe('42')
    expect(alive()).toBe(true)
  })

  it('leaves ordinary splits as they were: parts, limits, regexps, the name and length of the methods', async () => {
    const code = `[
      'a,b,,c'.split(','), 'a,b,c'.split(',', 2), 'a1b22c'.split(/\\d+/), 'abc'.split(''), 'x'.repeat(1000).split('').length,
      String.prototype.split.name, String.prototype.split.length, RegExp.prototype[Symbol.split].name, 'a-b'.split({ [Symbol.split]: (s, l) => [s, String(l)] }), 'a-b'.split({ [Symbol.split]: (s, l) => [s, l] }, 7),
    ]`
    const run = await jobs.run(testJob(code))
    expect(run.end.result?.json).toEqual([['a', 'b', '', 'c'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c'], 1000, 'split', 2, '[Symbol.split]', ['a-b', 'undefined'], ['a-b', 7]])
  })
})

describe('the process, after all of the above', () => {
  it('exits with code 0 when its stdin closes', async () => {
    sandbox.child.stdin.end()
    expect(await sandbox.exited).toEqual([0, null])
  })
})
