/**
 * The event stream of one cell, `GET /api/v1/cells/:id/events`, as
 * Server-Sent Events:
 *
 *   event: status   data {status}            on connect and on each change
 *   event: output   id <seq>, data {seq, stream, mime, data}
 *   event: done     data = the whole job     then the stream closes
 *   : ping                                   every streamHeartbeatMs, so proxies keep it open
 *
 * Resuming: the Last-Event-ID header (EventSource sends it on reconnect) or
 * ?lastEventId=, the last output seq the client has; it then gets exactly
 * the outputs after it, however the job ran (job-stream.ts says how). This
 * route only turns that iterable into frames.
 */
import { Hono, type Context } from 'hono'
import { streamSSE, type SSEMessage } from 'hono/streaming'
import type { AppEnv } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { JobService } from '../jobs.ts'
import type { JobStreamEvent } from '../job-stream.ts'
import type { ServerMetrics } from '../metrics.ts'
import { cellId, notFound } from './cells.ts'

export interface CellEventOptions {
  /** Interval of the comment lines that keep idle connections open (config.server.streamHeartbeatMs). */
  heartbeatMs: number
  /** Counts the streams open. */
  metrics: Pick<ServerMetrics, 'streamOpened'>
}

/**
 * @example
 *   app.route('/api/v1/cells', cellEventRoutes(jobs, { heartbeatMs: config.server.streamHeartbeatMs, metrics }))
 */
export function cellEventRoutes(jobs: JobService, { heartbeatMs, metrics }: CellEventOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/:id/events', async (c) => {
    const id = cellId(c.req.param('id'))
    const after = lastEventId(c)
    const abort = new AbortController()
    const events = await jobs.follow(c.var.caller, id, after, abort.signal)
    if (!events) throw notFound(id, jobs.retentionMs)
    c.req.raw.signal.addEventListener('abort', () => abort.abort(), { once: true })
    c.header('X-Accel-Buffering', 'no')
    const response = streamSSE(c, async (stream) => {
      stream.onAbort(() => abort.abort())
      const heartbeat = setInterval(() => void stream.write(': ping\n\n'), heartbeatMs)
      const closed = metrics.streamOpened()
      try {
        for await (const event of events) await stream.writeSSE(frame(event))
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

function frame(event: JobStreamEvent): SSEMessage {
  switch (event.type) {
    case 'status': return { event: 'status', data: JSON.stringify({ status: event.status }) }
    case 'output': return { event: 'output', id: String(event.output.seq), data: JSON.stringify(event.output) }
    case 'done': return { event: 'done', data: JSON.stringify(event.job) }
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
