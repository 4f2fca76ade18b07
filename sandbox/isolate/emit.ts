/**
 * Outputs leave the isolate here. Besides posting them, this is the flood
 * brake: once a cell has produced more characters than its output limit, the
 * host has been told (it counts bytes, and bytes >= characters) and is
 * stopping the cell, so further outputs are dropped instead of queued.
 */
import type { Post, PostedStream } from './wire.ts'

export type Emit = (stream: PostedStream, mime: string, data: string) => void

export function createEmit(post: Post, outputBytes: number): Emit {
  let chars = 0
  return (stream, mime, data) => {
    const before = chars
    chars += data.length
    // Post while the earlier total was within the limit: the one output that
    // crosses it still reaches the host, which then ends the job.
    if (before <= outputBytes) post('output', stream, mime, data)
  }
}
