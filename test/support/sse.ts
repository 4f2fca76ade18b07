/**
 * The one Server-Sent Events reader for tests and the bench: yields a
 * stream's events as they arrive, each with its `data` parsed as JSON (every
 * event cellgate sends carries JSON). Takes a URL, read over real HTTP, or a
 * Response already in hand, such as one from `app.request()`.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface SseEvent {
  event: string
  id: string | undefined
  data: unknown
}

/** Yields the events of a response's body until it ends; stopping early (break) cancels the body. */
export async function* sseEvents(response: Response): AsyncGenerator<SseEvent> {
  if (!response.body) throw new Error(`event stream answered ${response.status} with no body`)
  const queue: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (message) => queue.push(message) })
  const decoder = new TextDecoder()
  const reader = response.body.getReader()
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      parser.feed(decoder.decode(chunk.value, { stream: true }))
      while (queue.length > 0) {
        const message = queue.shift()!
        yield { event: message.event ?? 'message', id: message.id, data: JSON.parse(message.data) }
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/**
 * @example
 *   for await (const ev of readEvents(`${url}/api/v1/cells/${id}/events`)) if (ev.event === 'done') break
 */
export async function* readEvents(url: string, options: { lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<SseEvent> {
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId
  const res = await fetch(url, { headers, signal: options.signal })
  if (res.status !== 200) throw new Error(`event stream answered ${res.status}: ${await res.text()}`)
  yield* sseEvents(res)
}

/**
 * Reads a response's events until it ends or `until` says stop.
 *
 * @example
 *   const events = await readSse(await app.request(`/api/v1/cells/${id}/events`))
 */
export async function readSse(response: Response, until: (event: SseEvent) => boolean = () => false): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  for await (const event of sseEvents(response)) {
    events.push(event)
    if (until(event)) break
  }
  return events
}
