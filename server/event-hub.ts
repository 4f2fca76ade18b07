/**
 * In-process fan-out of what happens to jobs, after it is stored: event
 * streams and `?wait=true` requests subscribe here instead of polling the
 * store. Events are published only once they are durable, so a subscriber
 * that also reads the store (to resume) sees nothing the store does not have.
 */
import type { JobStatus, Output } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'

export type JobEvent =
  | { type: 'output'; output: Output }
  | { type: 'status'; status: JobStatus }

export type JobListener = (event: JobEvent) => void

/**
 * @example
 *   const hub = new EventHub(logger)
 *   const off = hub.subscribe(jobId, (event) => { … })
 *   hub.publish(jobId, { type: 'status', status: 'running' })
 *   off()
 */
export class EventHub {
  private readonly listeners = new Map<string, Set<JobListener>>()

  constructor(private readonly logger: Logger) {}

  subscribe(jobId: string, listener: JobListener): () => void {
    let set = this.listeners.get(jobId)
    if (!set) this.listeners.set(jobId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.listeners.get(jobId) === set) this.listeners.delete(jobId)
    }
  }

  publish(jobId: string, event: JobEvent): void {
    const set = this.listeners.get(jobId)
    if (!set) return
    // A listener may unsubscribe (or subscribe another) while we iterate.
    for (const listener of [...set]) {
      try {
        listener(event)
      } catch (err) {
        this.logger.error({ job: jobId, err }, 'a job event listener failed')
      }
    }
  }

  /** Number of jobs with at least one subscriber (for tests and diagnostics). */
  get size(): number {
    return this.listeners.size
  }
}
