/**
 * The state of the cell on the page, kept live: `run` submits code and
 * follows the cell's event stream, `load` shows a stored cell (and follows it
 * if it is still going), `cancel` asks the server to stop it. Only the latest
 * run or load may change the state; anything older is ignored.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import {
  ApiRequestError,
  isFinished,
  sameOriginApi,
  type CellsApi,
  type Job,
  type Output,
  type SubmitRequest,
} from '../api.ts'

/**
 * What the page shows of a cell. Right after a submit only id and status are
 * known: the rest stays empty until the stream's `done` brings the whole job.
 */
export type CellView = Pick<Job, 'id' | 'status' | 'outputs' | 'result' | 'error' | 'usage' | 'startedAt' | 'endedAt'> & {
  createdAt: string | null
}

export interface CellRun {
  cell: CellView | null
  /** A request in flight that has no cell to show yet. */
  pending: 'submit' | 'load' | null
  cancelling: boolean
  failure: ApiRequestError | null
  /** Submits and follows; resolves the new cell's id, or null if it failed or was superseded. */
  run(request: SubmitRequest): Promise<string | null>
  /** Shows a stored cell; resolves it, or null if it failed, was superseded or is already shown. */
  load(id: string): Promise<Job | null>
  cancel(): Promise<void>
  /** Stops following and shows nothing. */
  reset(): void
}

/** One run or load, and everything it holds open. */
interface Session {
  id: string | null
  stopped: boolean
  abort: AbortController
  lastSeq: number
  /** Outputs received since the last frame: applied once per frame, so a flood costs one render per frame. */
  buffer: Output[]
  frame?: number
  retry?: ReturnType<typeof setTimeout>
  close?: () => void
}

const RECONNECT_MS = 1_000
const RETRY_MS = 3_000

/**
 * @example
 * const cell = useCellRun()          // or useCellRun(cellsApi(origin)) for another cellgate
 * <button onClick={() => cell.run({ code })}>Run</button>
 * {cell.cell && <OutputList outputs={cell.cell.outputs} />}
 */
export function useCellRun(api: CellsApi = sameOriginApi): CellRun {
  const [cell, setCell] = useState<CellView | null>(null)
  const [pending, setPending] = useState<CellRun['pending']>(null)
  const [cancelling, setCancelling] = useState(false)
  const [failure, setFailure] = useState<ApiRequestError | null>(null)
  const current = useRef<Session | null>(null)

  const actions = useMemo(() => {
    const { cancelCell, followCell, getCell, submitCell } = api
    function begin(id: string | null): Session {
      if (current.current) stop(current.current)
      const session: Session = { id, stopped: false, abort: new AbortController(), lastSeq: 0, buffer: [] }
      current.current = session
      setCell(null)
      setFailure(null)
      setCancelling(false)
      return session
    }

    function stop(s: Session): void {
      s.stopped = true
      s.abort.abort()
      s.close?.()
      if (s.frame !== undefined) cancelAnimationFrame(s.frame)
      clearTimeout(s.retry)
      s.buffer = []
    }

    function follow(s: Session, id: string): void {
      s.close = followCell(id, s.lastSeq, {
        status: (status) => {
          if (!s.stopped) setCell((c) => c && { ...c, status })
        },
        output: (output) => {
          if (s.stopped || output.seq <= s.lastSeq) return
          s.lastSeq = output.seq
          s.buffer.push(output)
          s.frame ??= requestAnimationFrame(() => flush(s))
        },
        done: (job) => {
          if (!s.stopped) finish(s, job)
        },
        failed: () => {
          if (!s.stopped) void recover(s, id)
        },
      })
    }

    function flush(s: Session): void {
      s.frame = undefined
      const batch = s.buffer
      s.buffer = []
      if (batch.length > 0) setCell((c) => c && { ...c, outputs: c.outputs.concat(batch) })
    }

    function finish(s: Session, job: Job): void {
      stop(s)
      setCell(job)
      setCancelling(false)
    }

    /** The browser gave up on the stream: read the cell from the store, then follow again. */
    async function recover(s: Session, id: string): Promise<void> {
      try {
        const job = await getCell(id, s.abort.signal)
        if (s.stopped) return
        setFailure(null)
        if (isFinished(job.status)) return finish(s, job)
        s.buffer = []
        s.lastSeq = job.outputs.at(-1)?.seq ?? 0
        setCell(job)
        s.retry = setTimeout(() => follow(s, id), RECONNECT_MS)
      } catch (e) {
        if (s.stopped) return
        const failure = toFailure(e)
        setFailure(failure)
        // A 4xx will not get better by asking again; a lost server may come back.
        if (failure.status === 0 || failure.status >= 500) s.retry = setTimeout(() => void recover(s, id), RETRY_MS)
      }
    }

    async function run(request: SubmitRequest): Promise<string | null> {
      const s = begin(null)
      setPending('submit')
      try {
        const submitted = await submitCell(request, s.abort.signal)
        if (s.stopped) return null
        s.id = submitted.id
        setCell({
          id: submitted.id,
          status: submitted.status,
          outputs: [],
          result: null,
          error: null,
          usage: null,
          createdAt: null,
          startedAt: null,
          endedAt: null,
        })
        follow(s, submitted.id)
        return submitted.id
      } catch (e) {
        if (!s.stopped) setFailure(toFailure(e))
        return null
      } finally {
        if (current.current === s) setPending(null)
      }
    }

    async function load(id: string): Promise<Job | null> {
      if (current.current?.id === id) return null
      const s = begin(id)
      setPending('load')
      try {
        const job = await getCell(id, s.abort.signal)
        if (s.stopped) return null
        s.lastSeq = job.outputs.at(-1)?.seq ?? 0
        setCell(job)
        if (!isFinished(job.status)) follow(s, id)
        return job
      } catch (e) {
        if (!s.stopped) setFailure(toFailure(e))
        return null
      } finally {
        if (current.current === s) setPending(null)
      }
    }

    async function cancel(): Promise<void> {
      const s = current.current
      if (!s?.id || s.stopped) return
      setCancelling(true)
      try {
        const job = await cancelCell(s.id)
        // Still running means the sandbox was told to stop: the stream's `done` follows.
        if (!s.stopped && isFinished(job.status)) finish(s, job)
      } catch (e) {
        if (s.stopped) return
        setFailure(toFailure(e))
        setCancelling(false)
      }
    }

    function reset(): void {
      begin(null)
      setPending(null)
    }

    function dispose(): void {
      if (current.current) stop(current.current)
    }

    return { run, load, cancel, reset, dispose }
  }, [])

  useEffect(() => actions.dispose, [actions])

  const { run, load, cancel, reset } = actions
  return { cell, pending, cancelling, failure, run, load, cancel, reset }
}

function toFailure(e: unknown): ApiRequestError {
  if (e instanceof ApiRequestError) return e
  return new ApiRequestError(0, 'client', e instanceof Error ? e.message : String(e))
}
