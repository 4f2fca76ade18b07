/**
 * Runs an interact's function again as its controls move: each change waits
 * DEBOUNCE_MS for the next (a dragged slider sends one run, not fifty), at
 * most one run is in flight, and while one is, only the latest values wait
 * for it to end. A run is a cell of the session whose code is
 * `__cellgate_interact(id, values)` (see sandbox/isolate/interact.ts).
 */
import { useEffect, useRef } from 'preact/hooks'
import { isFinished, type CellsApi } from '../../api.ts'
import { useCellRun, type CellRun } from '../../hooks/use-cell-run.ts'
import type { ControlValue } from './data.ts'

const DEBOUNCE_MS = 150

export type Values = Record<string, ControlValue>

export interface InteractRun {
  /** The latest run (null before the first). */
  run: CellRun
  /** Asks for a run with these values: after the debounce, or at once (a button). */
  request(values: Values, now?: boolean): void
}

/** @example const { run, request } = useInteractRun(api, sessionId, data.id); request({ n: 11 }) */
export function useInteractRun(api: CellsApi, session: string | null, id: string): InteractRun {
  const run = useCellRun(api)
  const waiting = useRef<Values | null>(null)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const busy = useRef(false)
  busy.current = run.pending !== null || (run.cell !== null && !isFinished(run.cell.status))

  const flush = () => {
    const values = waiting.current
    if (busy.current || values === null || session === null) return
    waiting.current = null
    // Set before the state that says so renders: a timer firing in between must not start a second run.
    busy.current = true
    void run.run({ code: `__cellgate_interact(${JSON.stringify(id)}, ${JSON.stringify(values)})`, session })
  }

  // A run ended: the values that waited for it go now.
  useEffect(() => {
    if (!busy.current) flush()
  }, [busy.current])
  useEffect(() => () => clearTimeout(timer.current), [])

  return {
    run,
    request(values, now = false) {
      waiting.current = values
      clearTimeout(timer.current)
      timer.current = setTimeout(flush, now ? 0 : DEBOUNCE_MS)
    },
  }
}
