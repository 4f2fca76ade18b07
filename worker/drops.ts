/**
 * Counts and logs messages the dispatcher drops: invalid frames, frames from
 * sandboxes it did not launch, messages about jobs the sender does not hold.
 * Each drop is counted in the metrics (by reason); a sandbox is untrusted
 * and may send such things in a flood, so each reason is logged at most once
 * per interval with the count since, never once per message.
 */
import type { Logger } from '../telemetry/logger.ts'
import type { DispatcherMetrics } from './metrics.ts'

export const DROP_REASONS = [
  /** A sandbox frame that is not JSON or not a valid SandboxMessage (the job it is about, if any, ends `error`; see sandbox-link.ts). */
  'invalid',
  /** From a routing id that is not a live sandbox of the pool. */
  'unknown-sandbox',
  /** About a job the sending sandbox does not hold. */
  'not-assigned',
  /** About a job it holds, but out of turn (output before started, started twice). */
  'out-of-turn',
  /** A server frame that is not a valid ServerMessage. */
  'invalid-server',
  /** From a server connection that has not said hello yet. */
  'no-hello',
] as const
export type DropReason = (typeof DROP_REASONS)[number]

export class Drops {
  private readonly unreported = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>
  private readonly lastLog = { ...this.unreported }
  private readonly log: Logger

  constructor(
    log: Logger,
    private readonly metrics: DispatcherMetrics,
    private readonly intervalMs = 10_000,
  ) {
    this.log = log.child({ component: 'drops' })
  }

  /**
   * @example
   *   drops.drop('not-assigned', sandbox.id, () => `output for job ${jobId}`)
   */
  drop(reason: DropReason, source: string, detail: () => string): void {
    this.metrics.dropped(reason)
    this.unreported[reason]++
    const now = Date.now()
    if (now - this.lastLog[reason] < this.intervalMs) return
    const count = this.unreported[reason]
    this.lastLog[reason] = now
    this.unreported[reason] = 0
    this.log.warn({ reason, count, source, detail: detail() }, 'dropped messages')
  }
}
