/**
 * The protocol's validators, one direction of each link at a time.
 *
 *   server                       dispatcher                        sandbox
 *     |   (a job's account reaches the dispatcher, never a sandbox)   |
 *     | hello --------------------> |                                 |
 *     | <-------------------- welcome|                                 |
 *     | submit -------------------> | <------------------- credit {n} |
 *     |                             | run ------------------------->  |
 *     | <-- started {msgSeq 1} ---- | <------------------- started    |
 *     | <-- output {msgSeq 2,seq 1} | <------------------- output     |
 *     | <-- end {msgSeq 3} -------- | <------------------- end        |
 *     | ack {upTo 3} -------------> | (forgets the job)               |
 *
 *   sessions: run {job with session {id, cell}} goes to the sandbox holding the session
 *     | endSession {session} -----> | endSession {session} ---------> |  (drop the context)
 *     | <--- sessionEnded {reason}  | <--- sessionEnded {reason} ---- |  (context lost)
 */
import { describe, expect, it } from 'vitest'
import type { ZodType } from 'zod'
import { rawFrame as frame } from '../test/support/frames.ts'
import { decode, encode, ProtocolError, type ProtocolMessage } from './codec.ts'
import { MAX_ACCOUNT_LENGTH, runJobOf, SHARED_ACCOUNT } from './job.ts'
import { dispatcherMessageSchema, sandboxMessageSchema, serverMessageSchema, toSandboxMessageSchema } from './messages.ts'
import { testJob } from '../test/support/jobs.ts'

const job = testJob('1+1', { jobId: 'abcDEF123_-xyz00', account: 'anonymous:127.0.0.2' })

describe('protocol codec', () => {
  it('round-trips a message of every direction', () => {
    const cases = [
      [serverMessageSchema, { type: 'submit', job }],
      [serverMessageSchema, { type: 'ack', acks: [{ jobId: job.jobId, upTo: 3 }] }],
      [dispatcherMessageSchema, { type: 'output', jobId: job.jobId, msgSeq: 2, output: { seq: 1, stream: 'stdout', mime: 'text/plain', data: 'hi\n' } }],
      [serverMessageSchema, { type: 'workersRequest', requestId: 'r-1' }],
      [dispatcherMessageSchema, {
        type: 'workersReport', requestId: 'r-1',
        hosts: [{ host: 'local', state: 'up', sandboxes: 1, running: 1, slots: 2, lastError: null }],
        sandboxes: [{ id: 'sb-1', host: 'local', state: 'busy', pid: 12, slots: 2, running: 1, jobsRun: 3, lastError: null }],
      }],
      [toSandboxMessageSchema, { type: 'run', job: runJobOf(job) }],
      [toSandboxMessageSchema, { type: 'run', job: runJobOf({ ...job, session: { id: 'sessionABC123456', cell: 2 } }) }],
      [serverMessageSchema, { type: 'endSession', session: 'sessionABC123456' }],
      [toSandboxMessageSchema, { type: 'endSession', session: 'sessionABC123456' }],
      [sandboxMessageSchema, { type: 'sessionEnded', session: 'sessionABC123456', reason: 'ran out of memory' }],
      [dispatcherMessageSchema, { type: 'sessionEnded', session: 'sessionABC123456', reason: 'the sandbox holding this session died' }],
      [sandboxMessageSchema, { type: 'end', jobId: job.jobId, status: 'done', result: { text: '2', json: 2 }, usage: { cpuMs: 1, wallMs: 1, heapBytes: 10, outputBytes: 0 } }],
    ] as [ZodType<unknown>, ProtocolMessage][]
    for (const [schema, message] of cases) expect(decode(schema, encode(message))).toEqual(message)
  })

  it('rejects what is not JSON', () => {
    expect(() => decode(sandboxMessageSchema, Buffer.from('{nope'))).toThrow(ProtocolError)
  })

  it('names the field of an invalid message', () => {
    expect(() => decode(sandboxMessageSchema, frame({ type: 'output', jobId: job.jobId, output: { stream: 'tty', mime: 'text/plain', data: '' } }))).toThrow(/output\.stream/)
  })

  it('does not let a sandbox claim a job was lost, or send an unknown type', () => {
    const usage = { cpuMs: 0, wallMs: 0, heapBytes: 0, outputBytes: 0 }
    expect(() => decode(sandboxMessageSchema, frame({ type: 'end', jobId: job.jobId, status: 'lost', usage }))).toThrow(ProtocolError)
    expect(() => decode(sandboxMessageSchema, frame({ type: 'submit', job }))).toThrow(ProtocolError)
  })

  it('refuses limits past the hard maxima and code past 64 KB', () => {
    expect(() => decode(toSandboxMessageSchema, encode({ type: 'run', job: { ...job, limits: { ...job.limits, wallMs: 3_600_000 } } }))).toThrow(/wallMs/)
    expect(() => decode(toSandboxMessageSchema, encode({ type: 'run', job: { ...job, code: 'x'.repeat(64 * 1024 + 1) } }))).toThrow(/code/)
  })

  it('refuses a session cell numbered below 1 and a session id that is not url-safe', () => {
    expect(() => decode(toSandboxMessageSchema, encode({ type: 'run', job: { ...job, session: { id: 'sessionABC123456', cell: 0 } } }))).toThrow(/session\.cell/)
    expect(() => decode(sandboxMessageSchema, encode({ type: 'sessionEnded', session: '../x', reason: 'r' }))).toThrow(/session/)
  })

  it('carries a job\'s account to the dispatcher, bounded; one from an older server takes the shared turn', () => {
    const { account: _account, ...older } = job
    expect(decode(serverMessageSchema, encode({ type: 'submit', job: older } as ProtocolMessage))).toEqual({ type: 'submit', job: { ...job, account: SHARED_ACCOUNT } })
    expect(() => decode(serverMessageSchema, encode({ type: 'submit', job: { ...job, account: 'a'.repeat(MAX_ACCOUNT_LENGTH + 1) } }))).toThrow(/account/)
    expect(() => decode(serverMessageSchema, encode({ type: 'submit', job: { ...job, account: '' } }))).toThrow(/account/)
  })

  it('keeps the account out of what a sandbox is sent', () => {
    expect(runJobOf(job)).not.toHaveProperty('account')
    expect(decode(toSandboxMessageSchema, encode({ type: 'run', job: runJobOf(job) }))).toEqual({ type: 'run', job: runJobOf(job) })
  })

  it('refuses ids that are not url-safe', () => {
    expect(() => decode(serverMessageSchema, encode({ type: 'cancel', jobId: '../../etc/passwd' }))).toThrow(/jobId/)
  })
})
