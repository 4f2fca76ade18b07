/**
 * Runs one notebook cell to its end, as a promise: submit, follow its event
 * stream (outputs as they come), resolve with the finished job. Run all
 * awaits one cell after the other, which the cell page's useCellRun (one
 * cell, state only) does not offer. When the browser gives up on the stream,
 * the cell is read from the store and followed again from its last output.
 */
import { isFinished, type CellsApi, type Job, type JobStatus, type Output, type SubmitRequest } from '../../api.ts'

export interface CellProgress {
  /** The cell was queued as job `id`. */
  submitted(id: string): void
  status(status: JobStatus): void
  /** Outputs received since the last call, in order, at most one call per animation frame. */
  outputs(outputs: Output[]): void
}

const RECONNECT_MS = 1_000

/**
 * Rejects with the ApiRequestError of a refused submit (e.g. 409
 * session_ended), or an AbortError once `signal` aborts (the page stops
 * following; the cell itself is stopped by cancelCell).
 * @example const job = await runCell(api, { code, session }, progress, abort.signal)
 */
export function runCell(api: CellsApi, request: SubmitRequest, on: CellProgress, signal: AbortSignal): Promise<Job> {
  return new Promise((resolve, reject) => {
    let close = () => {}
    let timer: ReturnType<typeof setTimeout> | undefined
    let frame: number | undefined
    const buffer: Output[] = []
    let lastSeq = 0

    const flush = () => {
      frame = undefined
      if (buffer.length > 0) on.outputs(buffer.splice(0))
    }
    const settle = (fn: () => void) => {
      close()
      clearTimeout(timer)
      if (frame !== undefined) cancelAnimationFrame(frame)
      signal.removeEventListener('abort', onAbort)
      fn()
    }
    const onAbort = () => settle(() => reject(new DOMException('stopped following the cell', 'AbortError')))
    signal.addEventListener('abort', onAbort, { once: true })

    const follow = (id: string) => {
      close = api.followCell(id, lastSeq, {
        status: on.status,
        output: (output) => {
          if (output.seq <= lastSeq) return
          lastSeq = output.seq
          buffer.push(output)
          frame ??= requestAnimationFrame(flush)
        },
        done: (job) => settle(() => resolve(job)),
        failed: () => void recover(id),
      })
    }

    const recover = async (id: string) => {
      try {
        const job = await api.getCell(id, signal)
        if (isFinished(job.status)) return settle(() => resolve(job))
        flush()
        const missed = job.outputs.filter((o) => o.seq > lastSeq)
        if (missed.length > 0) on.outputs(missed)
        lastSeq = job.outputs.at(-1)?.seq ?? lastSeq
      } catch {
        // Aborted: settled already. Otherwise a lost server may come back: keep trying to follow the cell.
        if (signal.aborted) return
      }
      timer = setTimeout(() => follow(id), RECONNECT_MS)
    }

    api.submitCell(request, signal).then(
      (submitted) => {
        if (signal.aborted) return
        on.submitted(submitted.id)
        follow(submitted.id)
      },
      (e: unknown) => settle(() => reject(e)),
    )
  })
}
