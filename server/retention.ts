/**
 * Retention: the store keeps an ended job and its outputs for
 * config.retention.jobsMs after it ended, then the sweep deletes them. It
 * deletes in bounded batches (the store's deleteEndedJobs) and lets the
 * event loop run between them, so a backlog of millions of jobs (the first
 * sweep after an upgrade, or a lowered retention) costs requests a few
 * milliseconds at a time, never a stall. Per-tier retention and stored-byte
 * quotas will run through this same loop.
 */
import type { Config } from '../config/schema.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { Deleted, Store } from './store/port.ts'

export interface RetentionDeps {
  store: Pick<Store, 'deleteEndedJobs'>
  config: Pick<Config, 'retention'>
  logger: Logger
}

/** Jobs, and outputs, one store call deletes at most: about a millisecond of SQLite's time. */
export const RETENTION_BATCH = 500

/**
 * Deletes every job that ended more than the retention period before `now`,
 * with its outputs, batch by batch; returns how many of each it deleted.
 *
 * @example
 *   await sweepRetention({ store, config, logger }) // { jobs: 1200, outputs: 3400 }
 */
export async function sweepRetention(deps: RetentionDeps, now = Date.now()): Promise<Deleted> {
  const endedBefore = now - deps.config.retention.jobsMs
  const total: Deleted = { jobs: 0, outputs: 0 }
  for (;;) {
    const deleted = await deps.store.deleteEndedJobs(endedBefore, RETENTION_BATCH)
    total.jobs += deleted.jobs
    total.outputs += deleted.outputs
    if (deleted.jobs < RETENTION_BATCH && deleted.outputs < RETENTION_BATCH) break
    // SQLite answers synchronously: without this, the whole backlog would go in one turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (total.jobs > 0 || total.outputs > 0) deps.logger.info(total, `retention deleted ${total.jobs} jobs and ${total.outputs} outputs ended before ${new Date(endedBefore).toISOString()}`)
  return total
}
