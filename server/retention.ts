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
  store: Pick<Store, 'deleteEndedJobs' | 'deleteEndedSessions'>
  config: Pick<Config, 'retention'>
  logger: Logger
}

/** Jobs, outputs or sessions one store call deletes at most: about a millisecond of SQLite's time. */
export const RETENTION_BATCH = 500

/** What one sweep deleted. */
export interface Swept extends Deleted {
  sessions: number
}

/**
 * Deletes every job that ended more than the retention period before `now`,
 * with its outputs, and every session record that ended as long ago (its
 * cells are jobs, swept with the rest), batch by batch; returns how many of
 * each it deleted.
 *
 * @example
 *   await sweepRetention({ store, config, logger }) // { jobs: 1200, outputs: 3400, sessions: 12 }
 */
export async function sweepRetention(deps: RetentionDeps, now = Date.now()): Promise<Swept> {
  const endedBefore = now - deps.config.retention.jobsMs
  const total: Swept = { jobs: 0, outputs: 0, sessions: 0 }
  await inBatches(async () => {
    const deleted = await deps.store.deleteEndedJobs(endedBefore, RETENTION_BATCH)
    total.jobs += deleted.jobs
    total.outputs += deleted.outputs
    return deleted.jobs === RETENTION_BATCH || deleted.outputs === RETENTION_BATCH
  })
  await inBatches(async () => {
    const sessions = await deps.store.deleteEndedSessions(endedBefore, RETENTION_BATCH)
    total.sessions += sessions
    return sessions === RETENTION_BATCH
  })
  if (total.jobs > 0 || total.outputs > 0 || total.sessions > 0) {
    deps.logger.info(total, `retention deleted ${total.jobs} jobs, ${total.outputs} outputs and ${total.sessions} sessions ended before ${new Date(endedBefore).toISOString()}`)
  }
  return total
}

/** Runs `batch` until it says nothing more is due, yielding to the event loop between calls. */
async function inBatches(batch: () => Promise<boolean>): Promise<void> {
  while (await batch()) {
    // SQLite answers synchronously: without this, the whole backlog would go in one turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve))
  }
}
