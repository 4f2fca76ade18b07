/**
 * Writes one event stream's text with its unsent bytes bounded. Hono's
 * stream hands each write to @hono/node-server, which takes the next only
 * once the socket has drained, so a client that does not read leaves what
 * the server wrote waiting in the process: without a bound, a whole replay
 * per client. Here the bytes handed over but not yet taken, plus what the
 * node response still buffers, stay within `maxUnsentBytes` (one frame
 * larger than that goes out alone); a write waits for room, and a client
 * that gives none for `stallMs` is disconnected: `send` says false, and the
 * caller ends the stream. The client then resumes with Last-Event-ID.
 *
 * Text is gathered into chunks of about CHUNK_BYTES, so a replay of many
 * small events costs a few writes per page instead of one per event.
 */
import type { Writable } from 'node:stream'
import type { SSEStreamingApi } from 'hono/streaming'

/** About a node stream's high-water mark: what one write hands over. */
const CHUNK_BYTES = 16 * 1024

export interface SendBound {
  /** config.server.streamMaxUnsentBytes */
  maxUnsentBytes: number
  /** config.server.streamStallMs */
  stallMs: number
}

/**
 * @example
 *   const sender = new StreamSender(stream, c.env?.outgoing, { maxUnsentBytes: 1 << 20, stallMs: 10_000 })
 *   sender.add('event: status\ndata: {"status":"done"}\n\n')
 *   if (!(await sender.flush())) disconnect() // the client left it full for stallMs
 */
export class StreamSender {
  private pending = 0
  private buffer: string[] = []
  private buffered = 0
  private wake: (() => void) | null = null

  /** `outgoing` is the node response under the stream, when there is one (not under app.request()). */
  constructor(
    private readonly stream: Pick<SSEStreamingApi, 'write'>,
    private readonly outgoing: Pick<Writable, 'writableLength' | 'on' | 'off'> | undefined,
    private readonly bound: SendBound,
  ) {}

  /** Bytes written that the client has not taken yet, as far as this process holds them. */
  get unsent(): number {
    return this.pending + (this.outgoing?.writableLength ?? 0)
  }

  /** Adds text to send; sends a chunk once enough is gathered. False: the client stalled. */
  async add(text: string): Promise<boolean> {
    this.buffer.push(text)
    this.buffered += text.length
    return this.buffered >= CHUNK_BYTES ? this.flush() : true
  }

  /** Sends what was added, once there is room for it. False: the client left no room for stallMs. */
  async flush(): Promise<boolean> {
    if (this.buffer.length === 0) return true
    const chunk = this.buffer.join('')
    this.buffer = []
    this.buffered = 0
    const bytes = Buffer.byteLength(chunk)
    if (!(await this.room(bytes))) return false
    this.pending += bytes
    void this.stream.write(chunk).then(() => {
      this.pending -= bytes
      this.wake?.()
    })
    return true
  }

  /** Writes text at once if nothing is waiting for the client (a heartbeat has no use behind data). */
  writeIfIdle(text: string): void {
    if (this.unsent > 0 || this.buffer.length > 0) return
    void this.stream.write(text)
  }

  /** Waits until `bytes` more fit (or nothing is unsent), up to stallMs. */
  private async room(bytes: number): Promise<boolean> {
    const fits = () => this.unsent === 0 || this.unsent + bytes <= this.bound.maxUnsentBytes
    if (fits()) return true
    const deadline = Date.now() + this.bound.stallMs
    while (!fits()) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      await this.changed(left)
    }
    return true
  }

  /** Resolves when a write is taken, the node response drains, or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.outgoing?.off('drain', done)
        this.wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.outgoing?.on('drain', done)
      this.wake = done
    })
  }
}
