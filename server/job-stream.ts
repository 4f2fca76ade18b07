/**
 * A job's events from an output sequence number on, as an async iterable:
 * its status now and at each change, each output after `afterSeq` once and
 * in seq order, then `done` with the whole job, after which it ends. Event
 * streams (routes/cell-events.ts) are a loop over it; task progress will
 * travel the same way.
 *
 * Where events come from: this process's event hub for what this process
 * stores (live), and the store for the rest. It subscribes to the hub
 * before it reads the store, so what is stored before the subscription is
 * in the read and what is stored after arrives live: nothing is missed,
 * and a seq already yielded is skipped, so nothing is doubled. A job run
 * through another web instance (several share a MongoDB store) reaches
 * this one only through the store, so while the job runs the store is also
 * read every `pollMs`.
 *
 * A failure (the store gone) is logged and ends the iteration: whoever
 * reads it has usually sent its response headers already.
 */
import { isTerminal, type JobStatus, type JobView, type Output } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { EventHub, JobEvent } from './event-hub.ts'
import { toJobView } from './records.ts'
import type { JobRecord, Store } from './store/port.ts'

export type JobStreamEvent = JobEvent | { type: 'done'; job: JobView }

export interface JobStreamDeps {
  store: Pick<Store, 'getJob' | 'getOutputs'>
  hub: EventHub
  /** How often a live job is read from the store (config.server.streamPollMs). */
  pollMs: number
  logger: Logger
}

/**
 * The job's events after output `afterSeq` until it is done or `signal`
 * aborts; null when there is no such job. Store errors before that (the
 * job's first read) are thrown.
 *
 * @example
 *   const events = await followJob({ store, hub, pollMs: 500, logger }, id, 0, abort.signal)
 *   for await (const event of events ?? []) console.log(event) // status, output…, status (done), done
 */
export async function followJob(deps: JobStreamDeps, id: string, afterSeq: number, signal: AbortSignal): Promise<AsyncIterable<JobStreamEvent> | null> {
  const inbox = new Inbox<JobEvent>()
  const off = deps.hub.subscribe(id, (event) => inbox.push(event))
  // Also on abort: an iterable nobody starts has no `finally` to unsubscribe in.
  signal.addEventListener('abort', off, { once: true })
  let job: JobRecord | null
  try {
    job = await deps.store.getJob(id)
  } catch (err) {
    off()
    throw err
  }
  if (!job) {
    off()
    return null
  }
  return follow(deps, job, afterSeq, inbox, signal, off)
}

async function* follow(
  deps: JobStreamDeps, job: JobRecord, afterSeq: number, inbox: Inbox<JobEvent>, signal: AbortSignal, off: () => void,
): AsyncGenerator<JobStreamEvent> {
  const { store, pollMs, logger } = deps
  const seen = new Seen(afterSeq)
  try {
    // The status as read, then what the store had, then what arrived meanwhile, then live.
    let pending: JobEvent[] = [{ type: 'status', status: job.status }, ...outputEvents(await store.getOutputs(job.id, afterSeq))]
    let nextPoll = Date.now() + pollMs
    while (!signal.aborted) {
      for (const event of pending) {
        if (seen.isNew(event)) yield event
      }
      // After the batch, not at its status: the first batch has the status first, then the stored outputs.
      if (seen.ended) {
        const done = await store.getJob(job.id)
        if (done) yield { type: 'done', job: toJobView(done, await store.getOutputs(job.id)) }
        return
      }
      if (Date.now() >= nextPoll) {
        pending = await readStore(store, job.id, seen.lastSeq)
        nextPoll = Date.now() + pollMs
        continue
      }
      await inbox.wait(nextPoll - Date.now(), signal)
      pending = inbox.take()
    }
  } catch (err) {
    logger.error({ job: job.id, err }, 'following a job failed')
  } finally {
    off()
  }
}

/** Outputs, then the status: the store writes a job's outputs before the status that ends it, so this order misses none. */
async function readStore(store: JobStreamDeps['store'], id: string, afterSeq: number): Promise<JobEvent[]> {
  const now = await store.getJob(id)
  const events = outputEvents(await store.getOutputs(id, afterSeq))
  if (now) events.push({ type: 'status', status: now.status })
  return events
}

function outputEvents(outputs: Output[]): JobEvent[] {
  return outputs.map((output) => ({ type: 'output', output }))
}

/** What the stream has yielded so far: the last output seq and status. */
class Seen {
  private status: JobStatus | null = null

  constructor(public lastSeq: number) {}

  get ended(): boolean {
    return this.status !== null && isTerminal(this.status)
  }

  /** Outputs past the last seq; statuses that move forward (a store read may return what the hub has already moved past). */
  isNew(event: JobEvent): boolean {
    if (event.type === 'output') {
      if (event.output.seq <= this.lastSeq) return false
      this.lastSeq = event.output.seq
      return true
    }
    if (event.status === this.status || (event.status === 'queued' && this.status !== null)) return false
    this.status = event.status
    return true
  }
}

/** Hub events waiting for the stream to take them, with one waiter. */
class Inbox<T> {
  private items: T[] = []
  private wake: (() => void) | null = null

  push(item: T): void {
    this.items.push(item)
    this.wake?.()
  }

  take(): T[] {
    return this.items.splice(0)
  }

  /** Resolves once an item is there, after `ms`, or on abort. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.items.length > 0 || signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.wake = done
    })
  }
}
