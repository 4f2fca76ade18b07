/**
 * How many concurrent event streams one server holds: submits a few cells
 * that each print a line every second for five seconds (long enough for
 * every stream to connect while they run, on a busy machine), then opens
 * `streams` event streams spread over them (at most 100 connecting at a
 * time), and counts the streams that received every output and `done`.
 * The cells are as many as the pool has slots, so they all run at once and
 * the streams stay open together; the peak of streams open at the same
 * moment is reported beside the count.
 */
import { readFileSync } from 'node:fs'
import { followCell, submitCell } from './stream-follow.ts'

export const STREAM_OUTPUTS = 5
export const TICKING_CODE = `let i = 0; const t = setInterval(() => { console.log('tick ' + (++i)); if (i === ${STREAM_OUTPUTS}) clearInterval(t) }, 1000)`
const CONNECTING_AT_ONCE = 100
const TIMEOUT_MS = 60_000

export interface StreamCapacity {
  streams: number
  cells: number
  /** Streams that received all outputs and `done` with status done. */
  complete: number
  /** Most streams open (connected, not yet ended) at the same moment. */
  peakOpen: number
  failed: number
  firstError?: string
  seconds: number
}

/**
 * @example
 *   const r = await measureStreamCapacity(url, 1000, 4)
 *   console.log(`${r.complete}/${r.streams} streams complete`)
 */
export async function measureStreamCapacity(baseUrl: string, streams: number, cells: number): Promise<StreamCapacity> {
  const start = performance.now()
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  const submitted = await Promise.all(Array.from({ length: cells }, () => submitCell(baseUrl, TICKING_CODE)))
  let open = 0
  let peakOpen = 0
  let complete = 0
  let failed = 0
  let firstError: string | undefined
  let connecting = 0
  const waiting: (() => void)[] = []
  const connected = () => {
    connecting--
    waiting.shift()?.()
    open++
    peakOpen = Math.max(peakOpen, open)
  }
  const one = async (index: number) => {
    if (connecting >= CONNECTING_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve))
    connecting++
    let isOpen = false
    try {
      const end = await followCell(submitted[index % cells]!.events, signal, () => {
        isOpen = true
        connected()
      })
      if (end.status === 'done' && end.outputs === STREAM_OUTPUTS) complete++
      else throw new Error(`ended ${end.status} with ${end.outputs} of ${STREAM_OUTPUTS} outputs`)
    } catch (err) {
      failed++
      firstError ??= (err as Error).message
      if (!isOpen) {
        connecting--
        waiting.shift()?.()
      }
    } finally {
      if (isOpen) open--
    }
  }
  await Promise.all(Array.from({ length: streams }, (_, i) => one(i)))
  return { streams, cells, complete, peakOpen, failed, firstError, seconds: (performance.now() - start) / 1000 }
}

/** The soft limit on open files of this process (its children inherit it), or undefined when unknown. */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return match?.[1] === 'unlimited' ? Infinity : match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}
