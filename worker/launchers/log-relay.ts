/**
 * Copies a sandbox process's stdout or stderr into the dispatcher's log,
 * one record per line. The sandbox is untrusted: what it writes (its own
 * JSON log lines included) is text, kept whole in the record's `line` field
 * and never merged into the dispatcher's records, so it cannot forge a
 * level, a component or any other field:
 *
 *   {"level":40,…,"process":"dispatcher","component":"sandbox","sandboxId":"sb-…-1","stream":"stderr","line":"{\"level\":50,…}","msg":"sandbox output"}
 *
 * It may also write without end, so the relay is bounded: lines are cut at
 * maxLineChars, at most charsPerWindow characters per window are passed on,
 * and what is over the budget is dropped and reported as a count. The stream
 * is never paused, so a flooding sandbox costs the dispatcher a little CPU
 * and no memory.
 */
import type { Readable } from 'node:stream'
import type { Logger } from '../../telemetry/logger.ts'

export interface LogRelayOptions {
  /** Longer lines are cut. Default 2048. */
  maxLineChars?: number
  /** Characters passed on per window; the rest is dropped. Default 65536. */
  charsPerWindow?: number
  /** Default 1 s. */
  windowMs?: number
  /** Sees each line first; a line it returns true for is the launcher's own (the SSH sandbox command's pid line) and is not logged. */
  consume?: (line: string) => boolean
}

/**
 * `log` names the sandbox and the stream, e.g. a child {component: 'sandbox', sandboxId, stream: 'stderr'}.
 *
 * @example
 *   relayLines(child.stderr, log.child({ component: 'sandbox', sandboxId: 'sb-1', stream: 'stderr' }))
 */
export function relayLines(stream: Readable, log: Logger, options: LogRelayOptions = {}): void {
  const maxLineChars = options.maxLineChars ?? 2048
  const charsPerWindow = options.charsPerWindow ?? 64 * 1024
  const windowMs = options.windowMs ?? 1000
  let partial = ''
  let windowStart = 0
  let budget = charsPerWindow
  let dropped = 0

  const reportDropped = (): void => {
    if (dropped > 0) log.warn({ droppedChars: dropped, charsPerWindow, windowMs }, 'sandbox output over its budget dropped')
    dropped = 0
  }
  const emit = (line: string): void => {
    if (options.consume?.(line)) return
    const now = Date.now()
    if (now - windowStart >= windowMs) {
      reportDropped()
      windowStart = now
      budget = charsPerWindow
    }
    if (line.length > maxLineChars) line = `${line.slice(0, maxLineChars)}… (line cut)`
    if (budget < line.length) {
      dropped += line.length
      return
    }
    budget -= line.length
    log.warn({ line }, 'sandbox output')
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
    reportDropped()
  })
  stream.on('error', () => {})
}
