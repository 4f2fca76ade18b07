/**
 * A Server-Sent Events client for tests: reads a cell's event stream over a
 * real HTTP connection and yields its events as they arrive.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface SseEvent {
  event: string
  id: string | undefined
  data: unknown
}

/**
 * @example
 *   for await (const ev of readEvents(`${url}/api/v1/cells/${id}/events`)) if (ev.event === 'done') break
 */
export async function* readEvents(url: string, options: { lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<SseEvent> {
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId
  const res = await fetch(url, { headers, signal: options.signal })
  if (res.status !== 200 || !res.body) throw new Error(`event stream answered ${res.status}: ${await res.text()}`)
  const queue: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (message) => queue.push(message) })
  const decoder = new TextDecoder()
  const reader = res.body.getReader()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    parser.feed(decoder.decode(chunk.value, { stream: true }))
    while (queue.length > 0) {
      const message = queue.shift()!
      yield { event: message.event ?? 'message', id: message.id, data: JSON.parse(message.data) }
    }
  }
}
