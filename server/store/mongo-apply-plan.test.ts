/**
 * The batch planner of the MongoDB adapter, without a server: it must play a
 * batch forward exactly as the port defines apply().
 */
import { describe, expect, it } from 'vitest'
import type { JobStatus, Output } from '../../protocol/index.ts'
import { planApply } from './mongo-apply-plan.ts'

function out(seq: number): Output {
  return { seq, stream: 'stdout', mime: 'text/plain', data: `${seq}` }
}

const statuses = (entries: [string, JobStatus][]) => new Map(entries)

describe('planApply', () => {
  it('folds the transitions of one job into one write from the status read, patches merged in order', () => {
    const plan = planApply([
      { jobId: 'a', transition: { from: ['queued'], to: 'running', patch: { startedAt: 1, sandboxId: 's1' } } },
      { jobId: 'b', transition: { from: ['queued'], to: 'running' } },
      { jobId: 'a', transition: { from: ['running'], to: 'done', patch: { endedAt: 2, sandboxId: 's2' } } },
    ], statuses([['a', 'queued'], ['b', 'running']]))
    expect(plan.writes).toEqual([
      { jobId: 'a', from: 'queued', to: 'done', patch: { startedAt: 1, endedAt: 2, sandboxId: 's2' }, updates: [0, 2] },
    ])
  })

  it('takes outputs only while the job is live at that point of the batch, each (job, seq) once', () => {
    const plan = planApply([
      { jobId: 'a', outputs: [out(1), out(2)] },
      { jobId: 'a', outputs: [out(2), out(3)], transition: { from: ['running'], to: 'error' } },
      { jobId: 'a', outputs: [out(4)] },
      { jobId: 'gone', outputs: [out(1)], transition: { from: ['running'], to: 'lost' } },
      { jobId: 'b', outputs: [out(1)] },
    ], statuses([['a', 'running'], ['b', 'cancelled']]))
    expect(plan.outputs).toEqual([
      { update: 0, jobId: 'a', output: out(1) },
      { update: 0, jobId: 'a', output: out(2) },
      { update: 1, jobId: 'a', output: out(3) },
    ])
    expect(plan.writes.map((w) => [w.jobId, w.to, w.updates])).toEqual([['a', 'error', [1]]])
  })

  it('plans nothing for a finished job', () => {
    const plan = planApply([{ jobId: 'a', outputs: [out(1)], transition: { from: ['queued', 'running'], to: 'lost' } }], statuses([['a', 'done']]))
    expect(plan).toEqual({ outputs: [], writes: [] })
  })
})
