/**
 * Copies a sandbox process's stdout or stderr into the dispatcher's log,
 * line by line with a prefix. The sandbox is untrusted and may write without
 * end, so the relay is bounded: lines are cut at maxLineChars, at most
 * charsPerWindow characters per window are passed on, and what is over the budget
 * is dropped and reported as a count. The stream is never paused, so a
 * flooding sandbox costs the dispatcher a little CPU and no memory.
 */
import type { Readable } from 'node:stream'

export interface LogRelayOptions {
  /** Longer lines are cut. Default 2048. */
  maxLineChars?: number
  /** Characters passed on per window; the rest is dropped. Default 65536. */
  charsPerWindow?: number
  /** Default 1 s. */
  windowMs?: number
}

/**
 * @example
 *   relayLines(child.stderr, '[sandbox sb-1] ', (line) => process.stderr.write(line + '\n'))
 */
export function relayLines(stream: Readable, prefix: string, write: (line: string) => void, options: LogRelayOptions = {}): void {
  const maxLineChars = options.maxLineChars ?? 2048
  const charsPerWindow = options.charsPerWindow ?? 64 * 1024
  const windowMs = options.windowMs ?? 1000
  let partial = ''
  let windowStart = 0
  let budget = charsPerWindow
  let dropped = 0

  const emit = (line: string): void => {
    const now = Date.now()
    if (now - windowStart >= windowMs) {
      if (dropped > 0) write(`${prefix}… ${dropped} characters of output dropped (over ${charsPerWindow} characters per ${windowMs} ms)`)
      windowStart = now
      budget = charsPerWindow
      dropped = 0
    }
    if (line.length > maxLineChars) line = `${line.slice(0, maxLineChars)}… (line cut)`
    if (budget < line.length) {
      dropped += line.length
      return
    }
    budget -= line.length
    write(prefix + line)
  }

  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    let start = 0
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      emit(partial + chunk.slice(start, nl))
      partial = ''
      start = nl + 1
    }
    // Keep at most one line's worth of an unfinished line; the rest of it would be cut anyway.
    if (partial.length < maxLineChars) partial += chunk.slice(start, start + maxLineChars - partial.length + 1)
  })
  stream.on('end', () => {
    if (partial) emit(partial)
    if (dropped > 0) write(`${prefix}… ${dropped} characters of output dropped`)
  })
  stream.on('error', () => {})
}
