/** The one JobSpec factory for tests: a fresh id, the default limits unless the test sets its own, one shared account unless it names one. */
import { DEFAULT_LIMITS, SHARED_ACCOUNT, type JobSpec } from '../../protocol/index.ts'

let jobCounter = 0

/**
 * @example
 *   testJob('1 + 1', { limits: { wallMs: 500 }, session: { id: 'sessionABC123456', cell: 1 } })
 */
export function testJob(code: string, overrides: Partial<Omit<JobSpec, 'limits'>> & { limits?: Partial<JobSpec['limits']> } = {}): JobSpec {
  const { limits, ...rest } = overrides
  return { jobId: `job-${process.pid}-${++jobCounter}`, code, priority: 0, account: SHARED_ACCOUNT, ...rest, limits: { ...DEFAULT_LIMITS, ...limits } }
}
