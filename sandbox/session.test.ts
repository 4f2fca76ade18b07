/**
 * Sessions in the sandbox loop, with real isolates over a memory transport;
 * the test plays the dispatcher. A session's cells share one context in the
 * session's own isolate; one-off cells and other sessions never see it.
 *
 *   test (dispatcher)                         serveSandbox (2 slots)
 *        --- run {job, session A, cell 1} -->  makes A's isolate and context
 *        --- run {job, session A, cell 2} -->  same context: sees cell 1's globals
 *        --- run {job, session B, cell 1} -->  B's own isolate: sees nothing of A
 *        --- endSession {A} --------------->  drops A's context
 *        <-- sessionEnded {A, reason}, end --  (only when A's context was lost)
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Limits, MessageOf, SandboxMessage } from '../protocol/index.ts'
import { testJob } from '../test/support/jobs.ts'
import { MemoryDispatcher, type JobRecord } from '../test/support/sandbox-harness.ts'

type SessionEnded = MessageOf<SandboxMessage, 'sessionEnded'>

const dispatcher = new MemoryDispatcher(2)
afterAll(() => dispatcher.close())

let sessionCounter = 0
function newSession(): (code: string, limits?: Partial<Limits>) => Promise<JobRecord> {
  const id = `session-${process.pid}-${++sessionCounter}`
  let cell = 0
  return (code, limits = {}) => dispatcher.run(testJob(code, { limits, session: { id, cell: ++cell } }))
}

const resultOf = (record: JobRecord) => record.end.result?.text

describe('a session in the sandbox', () => {
  it('keeps variables, functions and classes from one cell to the next', async () => {
    const cell = newSession()
    expect(resultOf(await cell('x = 41'))).toBe('41')
    expect(resultOf(await cell('x + 1'))).toBe('42')
    await cell('let y = 1\nconst f = () => 2\nfunction g() { return 3 }\nclass C { get v() { return 4 } }')
    expect(resultOf(await cell('[y, f(), g(), new C().v]'))).toBe('[ 1, 2, 3, 4 ]')
    // Declaring again is what re-running a notebook cell does: it must not throw.
    const again = await cell('let y = 10\nconst f = () => 20\ny + f()')
    expect(again.end).toMatchObject({ status: 'done', result: { text: '30' } })
  })

  it('keeps declarations of cells that await', async () => {
    const cell = newSession()
    const first = await cell('const a = await Promise.resolve(5)\nlet { b } = { b: 6 }\nfunction h() { return a + b }\nclass K {}')
    expect(first.end.status).toBe('done')
    expect(resultOf(await cell('[a, b, h(), typeof K]'))).toBe("[ 5, 6, 11, 'function' ]")
  })

  it('is invisible to other sessions and to one-off cells', async () => {
    const a = newSession()
    const b = newSession()
    await a('secret = 1; let hidden = 2')
    expect(resultOf(await b('[typeof secret, typeof hidden]'))).toBe("[ 'undefined', 'undefined' ]")
    expect(resultOf(await dispatcher.run(testJob('[typeof secret, typeof hidden]')))).toBe("[ 'undefined', 'undefined' ]")
    expect(resultOf(await a('secret + hidden'))).toBe('3')
  })

  it('survives a cell that loops past its time limit', async () => {
    const cell = newSession()
    await cell('kept = 7')
    const loop = await cell('while (true) {}', { wallMs: 300, cpuMs: 5000 })
    expect(loop.end).toMatchObject({ status: 'timeout', error: { name: 'WallTimeExceeded' } })
    const cpu = await cell('while (true) {}', { wallMs: 5000, cpuMs: 200 })
    expect(cpu.end).toMatchObject({ status: 'timeout', error: { name: 'CpuLimitExceeded' } })
    expect(resultOf(await cell('kept'))).toBe('7')
    expect(dispatcher.messages.some((m) => m.type === 'sessionEnded')).toBe(false)
  })

  it('reports its context lost when a running cell is cancelled, just before that cell ends', async () => {
    const cell = newSession()
    await cell('kept = 1')
    const spec = testJob("console.log('go'); while (true) {}", { session: { id: `session-${process.pid}-${sessionCounter}`, cell: 2 } })
    const started = dispatcher.next((m) => m.type === 'output' && m.jobId === spec.jobId)
    const ended = dispatcher.run(spec)
    await started
    const lost = dispatcher.next((m): m is SessionEnded => m.type === 'sessionEnded')
    dispatcher.send({ type: 'cancel', jobId: spec.jobId })
    expect((await ended).end.status).toBe('cancelled')
    const message = await lost
    expect(message.session).toBe(spec.session!.id)
    expect(message.reason).toMatch(/cancelled while its code was running/)
    const order = dispatcher.messages.filter((m) => (m.type === 'end' && m.jobId === spec.jobId) || m === message)
    expect(order.map((m) => m.type)).toEqual(['sessionEnded', 'end'])
  })

  it('starts empty again only after endSession, which drops the context', async () => {
    const id = `session-${process.pid}-${++sessionCounter}`
    await dispatcher.run(testJob('dropped = 1', { session: { id, cell: 1 } }))
    dispatcher.send({ type: 'endSession', session: id })
    expect(resultOf(await dispatcher.run(testJob('typeof dropped', { session: { id, cell: 1 } })))).toBe("'undefined'")
  })
})
