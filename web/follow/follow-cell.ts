/**
 * Follows one cell until it ends, for every page that shows a running cell
 * (the cell page, the notebook, embedded cells, interacts): its event stream
 * brings status changes and outputs, and `ended` resolves with the finished
 * job. The stream can break (a proxy drops it, the server restarts or goes
 * away); then the cell is read from the store, which has every output
 * (GET /api/v1/cells/:id), and the stream is opened again after the last
 * output seen, with the waits of retry-delay.ts. Outputs are told apart by
 * seq, so one the stream and the store both bring is shown once. While the
 * server cannot be reached the connection is reported `lost`, and
 * `connected` again once it answers, so a page can say so.
 *
 *   EventSource /cells/:id/events?lastEventId=<seq> --status, output, done--> ended
 *        | breaks                                              ^
 *        v                                                     | finished
 *   GET /cells/:id --fails: lost, wait, ask again---------------+
 *        | still running: outputs missed, wait, open the stream again
 */
import { ApiRequestError, isFinished, type CellsApi, type Job, type JobStatus, type Output } from '../api.ts'
import { retryDelayMs } from './retry-delay.ts'

/** Whether the server answers: `lost` while it does not (the follower keeps trying). */
export type Connection = 'connected' | 'lost'

export interface FollowHandlers {
  status?(status: JobStatus): void
  /** Outputs not seen before, in order, at most one call per animation frame (a flood costs one render per frame). */
  outputs?(outputs: Output[]): void
  /** Each change of the connection. */
  connection?(connection: Connection): void
}

export interface Following {
  /**
   * The finished job. Rejects with the ApiRequestError of an answer that
   * asking again will not change (404: no such cell), or with an AbortError
   * after stop().
   */
  ended: Promise<Job>
  /** Stops following (the cell itself goes on; cancelCell stops it). */
  stop(): void
}

/**
 * `afterSeq` is the last output seq the caller has already (0 for none).
 * @example
 *   const following = followCell(api, id, 0, { outputs: (o) => shown.push(...o) })
 *   const job = await following.ended
 */
export function followCell(api: CellsApi, id: string, afterSeq: number, on: FollowHandlers): Following {
  let lastSeq = afterSeq
  let buffer: Output[] = []
  let frame: number | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let closeStream = () => {}
  let attempt = 0
  let connection: Connection = 'connected'
  let settled = false
  const abort = new AbortController()
  let resolve!: (job: Job) => void
  let reject!: (reason: unknown) => void
  const ended = new Promise<Job>((res, rej) => ((resolve = res), (reject = rej)))
  // A caller that only watches the handlers need not catch the AbortError of stop().
  ended.catch(() => {})

  function connected(now: Connection): void {
    if (now === connection) return
    connection = now
    on.connection?.(now)
  }

  function take(outputs: Output[]): void {
    for (const output of outputs) {
      if (output.seq <= lastSeq) continue
      lastSeq = output.seq
      buffer.push(output)
    }
    if (buffer.length > 0) frame ??= requestAnimationFrame(flush)
  }

  function flush(): void {
    frame = undefined
    const batch = buffer
    buffer = []
    if (batch.length > 0) on.outputs?.(batch)
  }

  function settle(end: () => void): void {
    if (settled) return
    settled = true
    closeStream()
    clearTimeout(timer)
    if (frame !== undefined) cancelAnimationFrame(frame)
    buffer = []
    abort.abort()
    end()
  }

  function openStream(): void {
    closeStream = api.followCell(id, lastSeq, {
      status(status) {
        // The stream says its status first on every connect: the server is back.
        connected('connected')
        attempt = 0
        on.status?.(status)
      },
      output: (output) => take([output]),
      done: (job) => {
        connected('connected')
        settle(() => resolve(job))
      },
      failed: () => void recover(),
    })
  }

  /** The stream broke: read the cell from the store, then follow it again (or say how it ended). */
  async function recover(): Promise<void> {
    try {
      const job = await api.getCell(id, abort.signal)
      if (settled) return
      connected('connected')
      if (isFinished(job.status)) return settle(() => resolve(job))
      take(job.outputs)
      on.status?.(job.status)
      timer = setTimeout(openStream, retryDelayMs(attempt++))
    } catch (e) {
      if (settled) return
      // No answer or a failing server may come back; an answer such as 404 will not change.
      if (e instanceof ApiRequestError && (e.status === 0 || e.status >= 500)) {
        connected('lost')
        timer = setTimeout(() => void recover(), retryDelayMs(attempt++))
      } else {
        settle(() => reject(e))
      }
    }
  }

  openStream()
  return {
    ended,
    stop: () => settle(() => reject(new DOMException('stopped following the cell', 'AbortError'))),
  }
}
