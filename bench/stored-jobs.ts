/**
 * "Every result stored": after a run, reads the cluster's own store (through
 * the Store port, so SQLite or MongoDB alike) and counts the jobs of the run
 * by status, to set beside the number of 2xx answers the load tool got.
 */
import { JOB_STATUSES, type JobStatus } from '../protocol/index.ts'
import type { Store } from '../server/store/port.ts'

export interface StoredCount {
  done: number
  /** Jobs of the run in any other status (should be none). */
  other: Partial<Record<JobStatus, number>>
}

/**
 * Waits (up to settleMs) until no job is queued or running, then counts the
 * jobs with this code created since `sinceMs` (epoch ms).
 *
 * @example
 *   const { done } = await countStoredJobs(store, '1+1', runStartedAt)
 */
export async function countStoredJobs(store: Store, code: string, sinceMs: number, settleMs = 15_000): Promise<StoredCount> {
  const deadline = Date.now() + settleMs
  while (Date.now() < deadline && (await store.findJobsByStatus(['queued', 'running'], 1)).length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const counts = new Map<JobStatus, number>()
  for (const job of await store.findJobsByStatus(JOB_STATUSES)) {
    if (job.code === code && job.createdAt >= sinceMs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1)
  }
  const { done = 0, ...other } = Object.fromEntries(counts) as Record<JobStatus, number>
  return { done, other }
}

/** The line the bench prints: 2xx answers against done jobs, and what the difference means. */
export function formatStoredCheck(ok2xx: number, stored: StoredCount, cutOffAtMost: number): string {
  const others = Object.entries(stored.other).map(([status, n]) => `${n} ${status}`).join(', ')
  const extra = stored.done - ok2xx
  const verdict = extra >= 0 && extra <= cutOffAtMost && !others ? 'OK' : 'MISMATCH'
  return (
    `every result stored: ${verdict}: ${ok2xx} 2xx answers, ${stored.done} done jobs in the store` +
    (extra > 0 ? ` (${extra} more: answers cut off by the end of a run, at most ${cutOffAtMost})` : '') +
    (others ? `; other states: ${others}` : '; no job in another state')
  )
}
