/**
 * Turns one `Store.apply` batch into the few writes MongoDB needs: the outputs
 * to insert (one insertMany for the whole batch) and at most one guarded
 * update per job (one bulkWrite for the whole batch).
 *
 * Why a plan: a bulkWrite reports how many of its updates matched, not which,
 * yet the port must say per update whether its transition applied. So the
 * adapter reads the jobs' current statuses first and plays the batch forward
 * here, in order, exactly as the port defines it (outputs only while a job is
 * live, then the transition only from one of its `from` statuses). All the
 * transitions that apply to one job fold into one update from the status that
 * was read to the last one reached, with the patches merged in order. Its
 * filter names the status that was read, so if another writer moved the job
 * in between, the update matches nothing and the adapter plans that job again
 * from its new status.
 */
import type { JobStatus, Output } from '../../protocol/index.ts'
import type { JobPatch, JobUpdate } from './port.ts'

/** Statuses in which a job still accepts outputs (see Store.apply). */
const LIVE_STATUSES: readonly JobStatus[] = ['queued', 'running']

/** One guarded update of one job: from `from` (as read) to `to`, with the merged patches. */
export interface JobWrite {
  jobId: string
  from: JobStatus
  to: JobStatus
  patch: JobPatch
  /** Indexes (in the batch) of the updates whose transitions this write carries. */
  updates: number[]
}

export interface ApplyPlan {
  /** Outputs to insert, each (job, seq) once, with the index of the update that brought it. */
  outputs: { update: number; jobId: string; output: Output }[]
  writes: JobWrite[]
}

/**
 * @example
 *   planApply([{ jobId: 'a', transition: { from: ['queued'], to: 'running' } }], new Map([['a', 'queued']]))
 *   // { outputs: [], writes: [{ jobId: 'a', from: 'queued', to: 'running', patch: {}, updates: [0] }] }
 */
export function planApply(updates: readonly JobUpdate[], statuses: ReadonlyMap<string, JobStatus>): ApplyPlan {
  const current = new Map(statuses)
  const outputs: ApplyPlan['outputs'] = []
  const seen = new Set<string>()
  const writes = new Map<string, JobWrite>()
  updates.forEach((update, index) => {
    const { jobId } = update
    const status = current.get(jobId)
    if (status === undefined) return
    if (update.outputs && LIVE_STATUSES.includes(status)) {
      for (const output of update.outputs) {
        const key = `${jobId}\u0000${output.seq}`
        if (seen.has(key)) continue
        seen.add(key)
        outputs.push({ update: index, jobId, output })
      }
    }
    const transition = update.transition
    if (!transition || !transition.from.includes(status)) return
    const write = writes.get(jobId) ?? { jobId, from: status, to: status, patch: {}, updates: [] }
    write.to = transition.to
    Object.assign(write.patch, transition.patch)
    write.updates.push(index)
    writes.set(jobId, write)
    current.set(jobId, transition.to)
  })
  return { outputs, writes: [...writes.values()] }
}
