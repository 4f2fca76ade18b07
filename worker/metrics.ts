/**
 * The dispatcher's Prometheus metrics, on the process's registry (passed
 * in, STYLE.md 15): how jobs end, how long they wait and run, how deep the
 * queue is, what state the sandboxes are in, and what was dropped. Quality
 * of service and autoscaling read these series, and tests read them through
 * metricValue instead of log lines.
 *
 * The hot path pays for counters and one observation per job and stage;
 * gauges cost nothing until a scrape, when they read the queue and the pool.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { TERMINAL_STATUSES, type TerminalStatus } from '../protocol/index.ts'
import { DROP_REASONS, type DropReason } from './drops.ts'
import type { DispatchJob } from './job.ts'
import { SANDBOX_STATES, type Sandbox } from './pool.ts'

/** What the gauges read when scraped. */
export interface MetricSources {
  /** Jobs in the queue, by priority (index = priority). */
  queued(): readonly number[]
  sandboxes(): Iterable<Sandbox>
}

/**
 * @example
 *   const metrics = new DispatcherMetrics(registry, { queued: () => scheduler.queuedByPriority(), sandboxes: () => pool.list() })
 *   metrics.jobEnded(job, 'done')
 */
export class DispatcherMetrics {
  // One child per label value, bound once: inc() then skips hashing the labels on every job.
  private readonly ended: Record<TerminalStatus, Counter.Internal>
  private readonly drops: Record<DropReason, Counter.Internal>
  private readonly wait: Histogram
  private readonly run: Histogram

  constructor(registry: Registry, sources: MetricSources) {
    const registers = [registry]
    const ended = new Counter({ name: 'cellgate_dispatcher_jobs_ended_total', help: 'Jobs whose end the dispatcher relayed to their server, by final status (lost includes those it ended itself).', labelNames: ['status'], registers })
    this.ended = bind(ended, TERMINAL_STATUSES)
    const dropped = new Counter({ name: 'cellgate_dispatcher_messages_dropped_total', help: 'Messages the dispatcher dropped, by reason (see worker/drops.ts).', labelNames: ['reason'], registers })
    this.drops = bind(dropped, DROP_REASONS)
    this.wait = new Histogram({
      name: 'cellgate_dispatcher_job_wait_seconds',
      help: 'From a job reaching the dispatcher to its first run message to a sandbox.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    })
    this.run = new Histogram({
      name: 'cellgate_dispatcher_job_run_seconds',
      help: 'From a job\'s (last) run message to a sandbox to the end the dispatcher relayed.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    })
    new Gauge({
      name: 'cellgate_dispatcher_queue_depth',
      help: 'Jobs queued for a free sandbox slot, by priority (cells waiting behind their session\'s running cell are not counted).',
      labelNames: ['priority'],
      registers,
      collect() {
        sources.queued().forEach((n, priority) => this.set({ priority: String(priority) }, n))
      },
    })
    new Gauge({
      name: 'cellgate_dispatcher_sandboxes',
      help: 'Sandbox processes of the pool, by state: starting (not connected yet), ready (a free slot), busy (all slots taken), retiring (being killed).',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = Object.fromEntries(SANDBOX_STATES.map((state) => [state, 0]))
        for (const sandbox of sources.sandboxes()) counts[sandbox.state]!++
        for (const state of SANDBOX_STATES) this.set({ state }, counts[state]!)
      },
    })
  }

  /** The job's run went to a sandbox (job.sentAt just set); its wait is observed on its first send only. */
  jobSent(job: DispatchJob): void {
    if (job.attempts === 1) this.wait.observe((job.sentAt - job.queuedAt) / 1000)
  }

  /** Its end goes to the server now; run time is observed for a job a sandbox was holding or had held. */
  jobEnded(job: DispatchJob, status: TerminalStatus): void {
    this.ended[status].inc()
    if (job.state !== 'queued') this.run.observe((performance.now() - job.sentAt) / 1000)
  }

  dropped(reason: DropReason): void {
    this.drops[reason].inc()
  }
}

/** A child per value of the counter's one label, each series shown at 0 from the start rather than missing until its first count. */
function bind<V extends string>(counter: Counter<string>, values: readonly V[]): Record<V, Counter.Internal> {
  return Object.fromEntries(values.map((value) => {
    const child = counter.labels(value)
    child.inc(0)
    return [value, child]
  })) as Record<V, Counter.Internal>
}
