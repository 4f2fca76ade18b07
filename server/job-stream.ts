/**
 * A job's events from an output sequence number on, as an async iterable of
 * batches: its status now and at each change, each output after `afterSeq`
 * once and in seq order, then `done` with the whole job, after which it
 * ends. Event streams (routes/cell-events.ts) are a loop over it; task
 * progress will travel the same way.
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
 * What it holds is bounded whatever the job: the store is read `pageSize`
 * outputs at a time, with a turn of the event loop between pages (a job of
 * 150,000 outputs replayed to several clients must not keep /health or the
 * dispatcher link waiting); live events wait for a slow reader in an inbox
 * of at most `pageSize`, and past that are dropped and read again from the
 * store, which has them all; `done` brings the job's outputs as pages too.
 *
 * A failure (the store gone) is logged and ends the iteration: whoever
 * reads it has usually sent its response headers already.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { isTerminal, type JobStatus, type JobView, type Output } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { EventHub, JobEvent } from './event-hub.ts'
import { toJobView } from './records.ts'
import type { JobRecord, Store } from './store/port.ts'

/** The finished job as `GET /api/v1/cells/:id` shows it, but for its outputs, which `done` brings page by page. */
export type FinishedJob = Omit<JobView, 'outputs'>

export type JobStreamEvent = JobEvent | { type: 'done'; job: FinishedJob; outputs: () => AsyncIterable<Output[]> }

export interface JobStreamDeps {
  store: Pick<Store, 'getJob' | 'getOutputs'>
  hub: EventHub
  /** How often a live job is read from the store (config.server.streamPollMs). */
  pollMs: number
  /** Outputs read from the store at once, and live events kept for a slow reader (config.server.streamPageSize). */
  pageSize: number
  logger: Logger
}

/**
 * The job's events after output `afterSeq` until it is done or `signal`
 * aborts, in batches (a page, or what arrived live meanwhile); null when
 * there is no such job. Store errors before that (the job's first read)
 * are thrown.
 *
 * @example
 *   const events = await followJob({ store, hub, pollMs: 500, pageSize: 1000, logger }, id, 0, abort.signal)
 *   for await (const batch of events ?? []) console.log(batch) // [status], [output…]…, [status (done)], [done]
 */
export async function followJob(deps: JobStreamDeps, id: string, afterSeq: number, signal: AbortSignal): Promise<AsyncIterable<JobStreamEvent[]> | null> {
  const inbox = new Inbox<JobEvent>(deps.pageSize)
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
): AsyncGenerator<JobStreamEvent[]> {
  const { store, pollMs, pageSize, logger } = deps
  const seen = new Seen(afterSeq)
  try {
    // The status as read, then what the store had, then what arrived meanwhile, then live.
    yield seen.fresh([{ type: 'status', status: job.status }])
    for (let first = true; !signal.aborted; first = false) {
      // What the hub brought until now is in the store: read it there (this also ends an overflow).
      inbox.clear()
      for await (const page of outputPages(store, job.id, seen.lastSeq, pageSize, signal)) {
        const events = seen.fresh(page.map((output) => ({ type: 'output', output })))
        if (events.length > 0) yield events
      }
      // After the outputs: the store writes a job's outputs before the status that ends it, so this order misses none.
      const now = first ? null : await store.getJob(job.id)
      if (now) {
        const events = seen.fresh([{ type: 'status', status: now.status }])
        if (events.length > 0) yield events
      }
      const nextPoll = Date.now() + pollMs
      while (!seen.ended && !inbox.overflowed && !signal.aborted && Date.now() < nextPoll) {
        await inbox.wait(nextPoll - Date.now(), signal)
        const events = seen.fresh(inbox.take())
        if (events.length > 0) yield events
      }
      if (seen.ended && !signal.aborted) {
        const done = await store.getJob(job.id)
        if (done) yield [{ type: 'done', job: finished(done), outputs: () => outputPages(store, job.id, 0, pageSize, signal) }]
        return
      }
    }
  } catch (err) {
    logger.error({ job: job.id, err }, 'following a job failed')
  } finally {
    off()
  }
}

/** A job's outputs after `afterSeq`, `pageSize` at a time, with a turn of the event loop before each page after the first. */
async function* outputPages(store: JobStreamDeps['store'], id: string, afterSeq: number, pageSize: number, signal: AbortSignal): AsyncGenerator<Output[]> {
  for (let after = afterSeq; ;) {
    const page = await store.getOutputs(id, after, pageSize)
    if (page.length > 0) yield page
    if (page.length < pageSize || signal.aborted) return
    after = page.at(-1)!.seq
    await nextTurn()
  }
}

function finished(job: JobRecord): FinishedJob {
  const { outputs: _outputs, ...view } = toJobView(job, [])
  return view
}

/** What the stream has yielded so far: the last output seq and status. */
class Seen {
  private status: JobStatus | null = null

  constructor(public lastSeq: number) {}

  get ended(): boolean {
    return this.status !== null && isTerminal(this.status)
  }

  /** The events not yielded before, in order (see isNew). */
  fresh(events: JobEvent[]): JobEvent[] {
    return events.filter((event) => this.isNew(event))
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

/**
 * Hub events waiting for the stream to take them, with one waiter. At most
 * `max`: a reader that far behind drops them all and reads the store again
 * (`overflowed`), so a slow client holds no more of a live flood than that.
 */
class Inbox<T> {
  private items: T[] = []
  private wake: (() => void) | null = null
  overflowed = false

  constructor(private readonly max: number) {}

  push(item: T): void {
    if (this.overflowed) return
    if (this.items.length >= this.max) {
      this.items = []
      this.overflowed = true
    } else {
      this.items.push(item)
    }
    this.wake?.()
  }

  take(): T[] {
    return this.items.splice(0)
  }

  /** Forgets what is here and any overflow: the store is about to be read. */
  clear(): void {
    this.items = []
    this.overflowed = false
  }

  /** Resolves once an item (or an overflow) is there, after `ms`, or on abort. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.items.length > 0 || this.overflowed || signal.aborted) return Promise.resolve()
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
