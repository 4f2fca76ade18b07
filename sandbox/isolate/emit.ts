/**
 * Outputs leave the isolate here, and this is where a flood of them stops.
 *
 * Every call to the host is queued to the host's thread, which runs them
 * all before its event loop runs again, so a call per console line of a
 * tight loop would stall the whole sandbox (see host-budget.ts). Console
 * writes are therefore posted as they happen only up to IMMEDIATE_WRITES
 * per synchronous run of the cell's code (up to its next await or the end
 * of a callback); past that, the writes of a burst are joined into one
 * output, posted once COALESCE_MS has passed since the last one, when it
 * fills a chunk or what is left of the byte limit, before a display output,
 * the result or an error, and at the end of that run (a microtask).
 *
 * The brake: this counts outputs and their bytes as the host does, from
 * below (one overhead per output and one byte per character; the host
 * counts JSON bytes, never fewer, and splits long outputs). The output that
 * takes either count over the cell's limits is still posted, so the host
 * ends the cell; everything after it is dropped instead of queued.
 */
import type { Post, PostedStream } from './wire.ts'

declare const MAX_OUTPUT_CHUNK: number
declare const OUTPUT_OVERHEAD_BYTES: number

/** Console writes of one synchronous run posted one by one, before a burst is joined. */
const IMMEDIATE_WRITES = 100
/** Joined console text of a burst is posted at least this often, in ms. */
const COALESCE_MS = 1

export type Emit = (stream: PostedStream, mime: string, data: string) => void

export interface Emitter {
  emit: Emit
  /** Posts the console text not yet posted; call before posting anything that must follow it (the result, an error). */
  flush(): void
}

// Captured before the cell runs: the cell may replace Promise.prototype.then or Date.now.
const resolved = Promise.resolve()
const then = Promise.prototype.then
const apply = Reflect.apply
const now = Date.now

export function createEmit(post: Post, limits: { outputBytes: number; outputs: number }): Emitter {
  let outputs = 0
  let bytes = 0
  let open = true
  let lastPostAt = 0
  let console: { stream: PostedStream; data: string } | undefined
  /** Console writes in this synchronous run; the microtask that ends it sets it back to 0. */
  let writes = 0

  const send = (stream: PostedStream, mime: string, data: string): void => {
    if (!open) return
    outputs++
    bytes += OUTPUT_OVERHEAD_BYTES + data.length
    open = outputs <= limits.outputs && bytes <= limits.outputBytes
    lastPostAt = now()
    post('output', stream, mime, data)
  }
  const flush = (): void => {
    if (console === undefined) return
    const { stream, data } = console
    console = undefined
    send(stream, 'text/plain', data)
  }
  const endOfRun = (): void => {
    writes = 0
    flush()
  }
  const emit: Emit = (stream, mime, data) => {
    if (!open) return
    if (stream === 'display' || mime !== 'text/plain') {
      flush()
      send(stream, mime, data)
      return
    }
    if (console !== undefined && console.stream !== stream) flush()
    if (console === undefined) console = { stream, data }
    else console.data += data
    if (writes++ === 0) apply(then, resolved, [endOfRun])
    const room = limits.outputBytes - bytes - OUTPUT_OVERHEAD_BYTES
    if (writes <= IMMEDIATE_WRITES || console.data.length >= Math.min(MAX_OUTPUT_CHUNK, room) || now() - lastPostAt >= COALESCE_MS) flush()
  }
  return { emit, flush }
}
