/**
 * The event stream of one cell, `GET /api/v1/cells/:id/events`, as
 * Server-Sent Events:
 *
 *   event: status   data {status}            on connect and on each change
 *   event: output   id <seq>, data {seq, stream, mime, data}
 *   event: done     data = the whole job     then the stream closes
 *   : ping                                   every streamHeartbeatMs while idle, so proxies keep it open
 *
 * Resuming: the Last-Event-ID header (EventSource sends it on reconnect) or
 * ?lastEventId=, the last output seq the client has; it then gets exactly
 * the outputs after it, however the job ran (job-stream.ts says how). This
 * route turns that iterable into frames and sends them through a
 * StreamSender, which bounds what a client that does not read can hold in
 * the server; one that stays at the bound for streamStallMs is
 * disconnected (logged, and counted in cellgate_event_streams_stalled_total)
 * and may resume with Last-Event-ID.
 *
 * `done` carries the whole job, outputs too, but is written a page of
 * outputs per `data:` line (SSE joins them with newlines, which JSON
 * allows), so a job of 150,000 outputs is never one string in memory.
 */
import type { HttpBindings } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { Logger } from '../../telemetry/logger.ts'
import type { AppEnv } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { JobService } from '../jobs.ts'
import type { JobStreamEvent } from '../job-stream.ts'
import type { ServerMetrics } from '../metrics.ts'
import { StreamSender, type SendBound } from '../stream-sender.ts'
import { cellId, notFound } from './cells.ts'

export interface CellEventOptions extends SendBound {
  /** Interval of the comment lines that keep idle connections open (config.server.streamHeartbeatMs). */
  heartbeatMs: number
  /** Counts the streams open, the bytes they hold, and those disconnected for not reading. */
  metrics: Pick<ServerMetrics, 'streamOpened' | 'streamStalled'>
  logger: Logger
}

/**
 * @example
 *   app.route('/api/v1/cells', cellEventRoutes(jobs, { heartbeatMs: 15_000, maxUnsentBytes: 1 << 20, stallMs: 10_000, metrics, logger }))
 */
export function cellEventRoutes(jobs: JobService, options: CellEventOptions): Hono<AppEnv> {
  const { heartbeatMs, metrics, logger } = options
  const app = new Hono<AppEnv>()

  app.get('/:id/events', async (c) => {
    const id = cellId(c.req.param('id'))
    const after = lastEventId(c)
    const abort = new AbortController()
    const events = await jobs.follow(c.var.caller, id, after, abort.signal)
    if (!events) throw notFound(id, jobs.retentionMs)
    c.req.raw.signal.addEventListener('abort', () => abort.abort(), { once: true })
    c.header('X-Accel-Buffering', 'no')
    // Only under @hono/node-server; app.request() has no node response.
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing
    const response = streamSSE(c, async (stream) => {
      stream.onAbort(() => abort.abort())
      const sender = new StreamSender(stream, outgoing, options)
      // One line, not a blank-line-ended block: it may fall between the data lines of `done`.
      const heartbeat = setInterval(() => sender.writeIfIdle(': ping\n'), heartbeatMs)
      const closed = metrics.streamOpened(() => sender.unsent)
      try {
        for await (const batch of events) {
          if (!(await send(sender, batch))) {
            logger.warn({ job: id, unsentBytes: sender.unsent, stallMs: options.stallMs }, 'event stream client did not read: disconnected')
            metrics.streamStalled()
            // Destroyed, not ended: ending would wait for the client to take what is queued.
            outgoing?.destroy()
            stream.abort()
            break
          }
        }
      } finally {
        closed()
        clearInterval(heartbeat)
        abort.abort()
      }
    })
    // streamSSE sets plain no-cache; no-transform also keeps proxies from compressing (and so buffering) the stream.
    response.headers.set('Cache-Control', 'no-cache, no-transform')
    return response
  })

  return app
}

/** Sends one batch of events; false when the client stalled. */
async function send(sender: StreamSender, batch: JobStreamEvent[]): Promise<boolean> {
  for (const event of batch) {
    if (event.type !== 'done') {
      if (!(await sender.add(frame(event)))) return false
      continue
    }
    if (!(await sender.add('event: done\ndata: {"outputs":['))) return false
    let comma = ''
    for await (const page of event.outputs()) {
      if (!(await sender.add(`\ndata: ${comma}${page.map((output) => JSON.stringify(output)).join(',')}`))) return false
      comma = ','
    }
    // The rest of the job's object: `{"id":…}` without its opening brace.
    if (!(await sender.add(`\ndata: ],${JSON.stringify(event.job).slice(1)}\n\n`))) return false
  }
  return sender.flush()
}

function frame(event: Exclude<JobStreamEvent, { type: 'done' }>): string {
  switch (event.type) {
    case 'status': return `event: status\ndata: ${JSON.stringify({ status: event.status })}\n\n`
    case 'output': return `event: output\nid: ${event.output.seq}\ndata: ${JSON.stringify(event.output)}\n\n`
  }
}

/** The last output seq the client has: Last-Event-ID header (set by EventSource on reconnect) or ?lastEventId=. */
function lastEventId(c: Context): number {
  const raw = c.req.header('last-event-id') || c.req.query('lastEventId') || '0'
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw new ApiError('validation_failed', 'lastEventId: must be the seq of an output, a non-negative integer')
  }
  return Number(raw.trim())
}
