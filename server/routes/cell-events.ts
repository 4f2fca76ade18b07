/**
 * The event stream of one cell, `GET /api/v1/cells/:id/events`, as
 * Server-Sent Events:
 *
 *   event: status   data {status}            on connect and on each change
 *   event: output   id <seq>, data {seq, stream, mime, data}
 *   event: done     data = the whole job     then the stream closes
 *   : ping                                   every streamHeartbeatMs, so proxies keep it open
 *
 * Resuming (Last-Event-ID header or ?lastEventId=, the last output seq the
 * client has): subscribe to the hub first, then read the store after that
 * seq, then go live, skipping any seq already sent. What is stored before the
 * subscription is in the read, what is stored after it arrives live, so
 * nothing is missed or doubled, whichever process stored it and whenever.
 *
 * Live events come from this process's hub for the jobs it submitted. A job
 * submitted through another web instance (several instances share a MongoDB
 * store) reaches this one only through the store, so while the job runs the
 * stream also reads the store every `pollMs`; seqs already sent are skipped.
 */
import { Hono, type Context } from 'hono'
import { isTerminal, type JobStatus, type Output } from '../../protocol/index.ts'
import type { Logger } from '../../telemetry/logger.ts'
import { ApiError } from '../errors.ts'
import type { JobEvent } from '../event-hub.ts'
import type { JobService } from '../jobs.ts'
import { cellId, notFound } from './cells.ts'

export interface CellEventOptions {
  /** Interval of comment lines that keep idle connections open (config.server.streamHeartbeatMs). */
  heartbeatMs: number
  /** How often a running job's outputs and status are read from the store (config.server.streamPollMs). */
  pollMs: number
  logger: Logger
}

/**
 * @example
 *   app.route('/api/v1/cells', cellEventRoutes(jobs, { heartbeatMs: 15_000, pollMs: 500, logger }))
 */
export function cellEventRoutes(jobs: JobService, { heartbeatMs, pollMs, logger }: CellEventOptions): Hono {
  const app = new Hono()

  app.get('/:id/events', async (c) => {
    const id = cellId(c.req.param('id'))
    const after = lastEventId(c)
    const early: JobEvent[] = []
    let deliver: (event: JobEvent) => void = (event) => early.push(event)
    const off = jobs.hub.subscribe(id, (event) => deliver(event))
    const job = await jobs.store.getJob(id).catch((err: unknown) => {
      off()
      throw err
    })
    if (!job) {
      off()
      throw notFound(id)
    }

    const encoder = new TextEncoder()
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let closed = false
    let ending = false
    let lastSeq = after
    let lastStatus: JobStatus | null = null
    const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs)
    let polling = false
    const poll = setInterval(() => {
      if (polling || ending) return
      polling = true
      readStore().catch(fail).finally(() => (polling = false))
    }, pollMs)

    function write(text: string): void {
      if (!closed) controller.enqueue(encoder.encode(text))
    }
    function close(): void {
      if (closed) return
      closed = true
      off()
      clearInterval(heartbeat)
      clearInterval(poll)
      c.req.raw.signal.removeEventListener('abort', close)
    }
    function status(next: JobStatus): void {
      // A store read may return what the hub has already moved past; status only moves forward.
      if (next === lastStatus || (next === 'queued' && lastStatus !== null)) return
      lastStatus = next
      write(`event: status\ndata: ${JSON.stringify({ status: next })}\n\n`)
      if (isTerminal(next)) void end()
    }
    function output(o: Output): void {
      if (o.seq <= lastSeq || ending) return
      lastSeq = o.seq
      write(`event: output\nid: ${o.seq}\ndata: ${JSON.stringify(o)}\n\n`)
    }
    function handle(event: JobEvent): void {
      if (event.type === 'output') output(event.output)
      else status(event.status)
    }
    async function end(): Promise<void> {
      if (ending) return
      ending = true
      try {
        const view = await jobs.view(id)
        write(`event: done\ndata: ${JSON.stringify(view)}\n\n`)
      } catch (err) {
        logger.error({ job: id, err }, 'event stream failed')
      }
      if (!closed) controller.close()
      close()
    }
    /** The job's status first, then its outputs: the store writes outputs before the status that ends them. */
    async function readStore(): Promise<void> {
      const now = await jobs.store.getJob(id)
      for (const o of await jobs.store.getOutputs(id, lastSeq)) output(o)
      if (now) status(now.status)
    }
    function fail(err: unknown): void {
      logger.error({ job: id, err }, 'event stream failed')
      if (!closed) controller.close()
      close()
    }
    async function start(): Promise<void> {
      const stored = await jobs.store.getOutputs(id, after)
      // The job's status as read, then what the store had, then what arrived meanwhile, then live.
      const initial = job!.status
      lastStatus = initial
      write(`event: status\ndata: ${JSON.stringify({ status: initial })}\n\n`)
      for (const o of stored) output(o)
      deliver = handle
      for (const event of early.splice(0)) handle(event)
      if (isTerminal(initial)) await end()
    }

    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        controller = ctrl
        start().catch(fail)
      },
      cancel: close,
    })
    c.req.raw.signal.addEventListener('abort', close)
    return c.body(body, 200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    })
  })

  return app
}

/** The last output seq the client has: Last-Event-ID header (set by EventSource on reconnect) or ?lastEventId=. */
function lastEventId(c: Context): number {
  const raw = c.req.header('last-event-id') || c.req.query('lastEventId') || '0'
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw new ApiError('validation_failed', 'lastEventId: must be the seq of an output, a non-negative integer')
  }
  return Number(raw.trim())
}
