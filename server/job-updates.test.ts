/**
 * planBatch: dispatcher messages to store updates and acks, keeping each
 * job's order.
 */
import { describe, expect, it } from 'vitest'
import type { DispatcherMessage, Output } from '../protocol/index.ts'
import { planBatch } from './job-updates.ts'

const out = (seq: number): Output => ({ seq, stream: 'stdout', mime: 'text/plain', data: `${seq}` })

describe('planBatch', () => {
  it('makes a short job two updates: started, then outputs with the end', () => {
    const messages: DispatcherMessage[] = [
      { type: 'started', jobId: 'aaaaaaaa', msgSeq: 1, bootId: 'd1', sandboxId: 's1' },
      { type: 'output', jobId: 'aaaaaaaa', msgSeq: 2, output: out(1) },
      { type: 'output', jobId: 'aaaaaaaa', msgSeq: 3, output: out(2) },
      { type: 'end', jobId: 'aaaaaaaa', msgSeq: 4, end: { status: 'error', error: { name: 'E', message: 'm' } } },
    ]
    const plan = planBatch(messages, 1000)
    expect(plan.updates).toEqual([
      { jobId: 'aaaaaaaa', transition: { from: ['queued'], to: 'running', patch: { startedAt: 1000, dispatcherBoot: 'd1', sandboxId: 's1' } } },
      {
        jobId: 'aaaaaaaa',
        outputs: [out(1), out(2)],
        transition: { from: ['queued', 'running'], to: 'error', patch: { endedAt: 1000, result: null, error: { name: 'E', message: 'm' }, usage: null } },
      },
    ])
    expect(plan.acks).toEqual([{ jobId: 'aaaaaaaa', upTo: 4 }])
    expect(plan.welcomeBoot).toBeNull()
  })

  it('keeps jobs apart, acks the highest msgSeq of each, and reports the welcome', () => {
    const plan = planBatch([
      { type: 'output', jobId: 'aaaaaaaa', msgSeq: 3, output: out(2) },
      { type: 'output', jobId: 'bbbbbbbb', msgSeq: 2, output: out(1) },
      { type: 'welcome', bootId: 'd2', pool: { sandboxes: 1, connected: 1, ready: 1, freeSlots: 1, queued: 0 } },
      { type: 'output', jobId: 'aaaaaaaa', msgSeq: 2, output: out(1) },
    ], 5)
    expect(plan.updates).toEqual([
      { jobId: 'aaaaaaaa', outputs: [out(2), out(1)] },
      { jobId: 'bbbbbbbb', outputs: [out(1)] },
    ])
    expect(plan.acks).toEqual([{ jobId: 'aaaaaaaa', upTo: 3 }, { jobId: 'bbbbbbbb', upTo: 2 }])
    expect(plan.welcomeBoot).toBe('d2')
  })

  it('puts outputs after an end into their own update, which the store then drops', () => {
    const plan = planBatch([
      { type: 'end', jobId: 'aaaaaaaa', msgSeq: 1, end: { status: 'cancelled' } },
      { type: 'output', jobId: 'aaaaaaaa', msgSeq: 2, output: out(1) },
    ], 5)
    expect(plan.updates.map((u) => [Boolean(u.transition), u.outputs?.length ?? 0])).toEqual([[true, 0], [false, 1]])
  })
})
