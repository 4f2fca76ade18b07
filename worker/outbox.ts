/**
 * Batches what the dispatcher sends on one ROUTER socket: frames pushed for
 * the same peer during one tick of the event loop leave as one multipart
 * message [routingId, frame, frame, …], so a job streaming many outputs
 * costs one send (and one store write on the server) per tick, not per
 * output.
 *
 * A tick's batch for one peer leaves in several messages when it is large
 * (a cell that wrote 100k outputs in one tick): each carries at most
 * MAX_BATCH_FRAMES frames and MAX_BATCH_BYTES bytes (a single larger frame
 * goes alone), in the order pushed, so one job's messages never reorder and
 * the receiver never holds one unbounded message.
 *
 * Peers are named by a key (a serverId, a sandbox id); the routing id is
 * looked up when the batch leaves, so a server that reconnected under a new
 * routing id in the meantime still gets it.
 */
import type { Router } from 'zeromq'

/** Frames per multipart message at most (as the server's link sends, server/dispatcher-link.ts). */
export const MAX_BATCH_FRAMES = 1000
/** Bytes of frames per multipart message at most; a frame larger than this is sent alone. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024

export interface OutboxOptions {
  /** Routing id of the peer named `key` now, or undefined to drop its batch (peer gone). */
  route(key: string): Buffer | undefined
  /** A send failed (e.g. EHOSTUNREACH on a mandatory ROUTER); the rest of the batch is dropped (the peer is gone). */
  onSendError(key: string, err: Error): void
}

export class Outbox {
  private batches = new Map<string, Buffer[]>()
  private scheduled = false
  private flushing: Promise<void> = Promise.resolve()
  private closed = false

  constructor(private readonly socket: Router, private readonly options: OutboxOptions) {}

  /** Queues one encoded message for the peer; it leaves at the end of this tick. */
  push(key: string, frame: Buffer): void {
    let batch = this.batches.get(key)
    if (!batch) {
      batch = []
      this.batches.set(key, batch)
    }
    batch.push(frame)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  /** Resolves when everything pushed so far has been handed to ZeroMQ. */
  async drain(): Promise<void> {
    if (this.scheduled) await new Promise((resolve) => setImmediate(resolve))
    await this.flushing
  }

  close(): void {
    this.closed = true
    this.batches.clear()
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const batches = this.batches
    this.batches = new Map()
    // Sends are chained: a ZeroMQ socket takes one pending send at a time.
    this.flushing = this.flushing.then(() => this.send(batches))
  }

  private async send(batches: Map<string, Buffer[]>): Promise<void> {
    for (const [key, frames] of batches) {
      for (const chunk of chunks(frames)) {
        if (this.closed) return
        const routingId = this.options.route(key)
        if (!routingId) break
        try {
          await this.socket.send([routingId, ...chunk])
        } catch (err) {
          this.options.onSendError(key, err as Error)
          break
        }
      }
    }
  }
}

/** Consecutive runs of frames, each within MAX_BATCH_FRAMES and MAX_BATCH_BYTES (and at least one frame). */
function* chunks(frames: readonly Buffer[]): Generator<Buffer[]> {
  let chunk: Buffer[] = []
  let bytes = 0
  for (const frame of frames) {
    if (chunk.length > 0 && (chunk.length === MAX_BATCH_FRAMES || bytes + frame.length > MAX_BATCH_BYTES)) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push(frame)
    bytes += frame.length
  }
  if (chunk.length > 0) yield chunk
}
