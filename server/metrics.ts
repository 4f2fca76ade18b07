/**
 * The web tier's metrics, registered on the process's one registry
 * (telemetry/metrics.ts) and served as `GET /metrics`:
 *
 *   cellgate_jobs_submitted_total             jobs stored as submitted by this instance
 *   cellgate_jobs_ended_total{status}         jobs this instance stored as ended, by final status
 *   cellgate_job_wait_seconds                 created → started, observed when a job starts
 *   cellgate_job_run_seconds                  started → ended, observed when a started job ends
 *   cellgate_store_batch_messages             dispatcher messages per store batch
 *   cellgate_store_batch_seconds              time to store one batch
 *   cellgate_event_streams_open               event streams this instance serves now
 *   cellgate_event_streams_unsent_bytes       bytes they hold that their clients have not taken yet
 *   cellgate_event_streams_stalled_total      streams disconnected because their client stopped reading
 *   cellgate_dispatcher_connected             1 while the dispatcher answers hellos
 *   cellgate_dispatcher_pool_sandboxes{state} the pool (total, connected, ready), as its last welcome said
 *   cellgate_dispatcher_pool_free_slots, cellgate_dispatcher_pool_queued   likewise
 *
 * A job's end is counted where the store says its transition applied, so
 * a repeated or late message, or two instances sweeping the same job,
 * never count it twice. Times come from the store (createdAt, startedAt,
 * endedAt), so they are the same whichever instance stored the job.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { isTerminal, type JobStatus } from '../protocol/index.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import type { JobTimes } from './store/port.ts'

/** From a trivial cell (milliseconds) to a cell that waits its whole 60 s wall limit, or a queue that long. */
const JOB_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
const BATCH_MESSAGES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000]
const BATCH_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/**
 * @example
 *   const metrics = new ServerMetrics(createRegistry('server'), link)
 *   metrics.jobSubmitted()
 *   await metrics.registry.metrics() // Prometheus text format
 */
export class ServerMetrics {
  private readonly submitted: Counter
  private readonly ended: Counter<'status'>
  private readonly refused: Counter
  private readonly wait: Histogram
  private readonly run: Histogram
  private readonly batchMessages: Histogram
  private readonly batchSeconds: Histogram
  private readonly streams: Gauge
  private readonly stalled: Counter
  /** What each open stream holds unsent, read when scraped. */
  private readonly unsent = new Set<() => number>()

  constructor(readonly registry: Registry, link: Pick<DispatcherLink, 'state'>) {
    const registers = [registry]
    this.submitted = new Counter({ name: 'cellgate_jobs_submitted_total', help: 'Jobs stored as submitted by this instance', registers })
    this.ended = new Counter({ name: 'cellgate_jobs_ended_total', help: 'Jobs this instance stored as ended, by final status', labelNames: ['status'], registers })
    this.wait = new Histogram({ name: 'cellgate_job_wait_seconds', help: 'From a job\'s creation to its start', buckets: JOB_SECONDS, registers })
    this.run = new Histogram({ name: 'cellgate_job_run_seconds', help: 'From a job\'s start to its end', buckets: JOB_SECONDS, registers })
    this.batchMessages = new Histogram({ name: 'cellgate_store_batch_messages', help: 'Dispatcher messages per store batch', buckets: BATCH_MESSAGES, registers })
    this.batchSeconds = new Histogram({ name: 'cellgate_store_batch_seconds', help: 'Time to store one batch of dispatcher messages', buckets: BATCH_SECONDS, registers })
    this.refused = new Counter({ name: 'cellgate_store_refused_messages_total', help: 'Dispatcher messages the store refused, set aside with their job ended error', registers })
    this.streams = new Gauge({ name: 'cellgate_event_streams_open', help: 'Event streams this instance serves now', registers })
    this.stalled = new Counter({ name: 'cellgate_event_streams_stalled_total', help: 'Event streams disconnected because their client left them at the unsent bound', registers })
    const unsent = this.unsent
    new Gauge({
      name: 'cellgate_event_streams_unsent_bytes', help: 'Bytes the open event streams hold that their clients have not taken yet', registers,
      collect() {
        let sum = 0
        for (const bytes of unsent) sum += bytes()
        this.set(sum)
      },
    })

    // Read from the link when scraped: nothing to keep up to date in between.
    new Gauge({
      name: 'cellgate_dispatcher_connected', help: '1 while the dispatcher answers this server\'s hellos', registers,
      collect() {
        this.set(link.state().connected ? 1 : 0)
      },
    })
    new Gauge({
      name: 'cellgate_dispatcher_pool_sandboxes', help: 'Sandboxes of the pool by state, as the dispatcher\'s last welcome said', labelNames: ['state'], registers,
      collect() {
        const pool = link.state().pool
        this.set({ state: 'total' }, pool?.sandboxes ?? 0)
        this.set({ state: 'connected' }, pool?.connected ?? 0)
        this.set({ state: 'ready' }, pool?.ready ?? 0)
      },
    })
    new Gauge({
      name: 'cellgate_dispatcher_pool_free_slots', help: 'Free sandbox slots, as the dispatcher\'s last welcome said', registers,
      collect() {
        this.set(link.state().pool?.freeSlots ?? 0)
      },
    })
    new Gauge({
      name: 'cellgate_dispatcher_pool_queued', help: 'Jobs queued in the dispatcher, as its last welcome said', registers,
      collect() {
        this.set(link.state().pool?.queued ?? 0)
      },
    })
  }

  jobSubmitted(): void {
    this.submitted.inc()
  }

  /** A job's transition to `to` applied, and the store says these are its times now. */
  jobMoved(to: JobStatus, times: JobTimes): void {
    const { createdAt, startedAt, endedAt } = times
    if (to === 'running' && startedAt !== null) this.wait.observe((startedAt - createdAt) / 1000)
    if (!isTerminal(to)) return
    this.ended.inc({ status: to })
    if (startedAt !== null && endedAt !== null) this.run.observe((endedAt - startedAt) / 1000)
  }

  /** The store refused a dispatcher message; it was set aside and its job ended `error` (dispatcher-inbox.ts). */
  messageRefused(): void {
    this.refused.inc()
  }

  batchStored(messages: number, seconds: number): void {
    this.batchMessages.observe(messages)
    this.batchSeconds.observe(seconds)
  }

  /** Counts an event stream as open, and what `unsent` says it holds, until the returned function is called. */
  streamOpened(unsent: () => number): () => void {
    this.streams.inc()
    this.unsent.add(unsent)
    return () => {
      this.streams.dec()
      this.unsent.delete(unsent)
    }
  }

  /** An event stream was disconnected because its client stopped reading. */
  streamStalled(): void {
    this.stalled.inc()
  }
}
