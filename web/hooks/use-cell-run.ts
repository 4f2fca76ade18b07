/**
 * The state of the cell on the page, kept live: `run` submits code and
 * follows the cell (follow/follow-cell.ts) until it ends, `load` shows a
 * stored cell (and follows it if it is still going), `cancel` asks the server
 * to stop it. Only the latest run or load may change the state; anything
 * older is ignored.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { isFinished, sameOriginApi, toApiError, type ApiRequestError, type CellsApi, type Job, type SubmitRequest } from '../api.ts'
import { followCell, type Connection, type Following } from '../follow/follow-cell.ts'

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
  /** Whether the server answers while the cell is followed (`lost`: it is still being tried). */
  connection: Connection
  /** Submits and follows; resolves the new cell's id, or null if it failed or was superseded. */
  run(request: SubmitRequest): Promise<string | null>
  /** Shows a stored cell; resolves it, or null if it failed, was superseded or is already shown. */
  load(id: string): Promise<Job | null>
  cancel(): Promise<void>
  /** Stops following and shows nothing. */
  reset(): void
}

/** One run or load, and what it holds open. */
interface Session {
  id: string | null
  stopped: boolean
  abort: AbortController
  following?: Following
}

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
  const [connection, setConnection] = useState<Connection>('connected')
  const current = useRef<Session | null>(null)

  const actions = useMemo(() => {
    const { cancelCell, getCell, submitCell } = api
    function begin(id: string | null): Session {
      if (current.current) stop(current.current)
      const session: Session = { id, stopped: false, abort: new AbortController() }
      current.current = session
      setCell(null)
      setFailure(null)
      setCancelling(false)
      setConnection('connected')
      return session
    }

    function stop(s: Session): void {
      s.stopped = true
      s.abort.abort()
      s.following?.stop()
    }

    function follow(s: Session, id: string, afterSeq: number): void {
      s.following = followCell(api, id, afterSeq, {
        status: (status) => setCell((c) => c && { ...c, status }),
        outputs: (batch) => setCell((c) => c && { ...c, outputs: c.outputs.concat(batch) }),
        connection: (now) => {
          setConnection(now)
          // What failed for want of the server (a Stop pressed while it was gone) is over once it is back.
          if (now === 'connected') setFailure((f) => (f?.status === 0 ? null : f))
        },
      })
      s.following.ended.then(
        (job) => finish(s, job),
        (e: unknown) => {
          if (!s.stopped) setFailure(toApiError(e))
        },
      )
    }

    function finish(s: Session, job: Job): void {
      if (s.stopped) return
      stop(s)
      setCell(job)
      setCancelling(false)
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
        follow(s, submitted.id, 0)
        return submitted.id
      } catch (e) {
        if (!s.stopped) setFailure(toApiError(e))
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
        setCell(job)
        if (!isFinished(job.status)) follow(s, id, job.outputs.at(-1)?.seq ?? 0)
        return job
      } catch (e) {
        if (!s.stopped) setFailure(toApiError(e))
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
        if (isFinished(job.status)) finish(s, job)
      } catch (e) {
        if (s.stopped) return
        setFailure(toApiError(e))
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
  return { cell, pending, cancelling, failure, connection, run, load, cancel, reset }
}

