/**
 * The cell page: edit code, run it, watch its outputs stream in, see how it
 * ended and what it cost. At `/cells/:id` it shows that cell; a run pushes
 * its own `/cells/:id`, so the address bar always links to what is shown.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { cellPath, isFinished } from '../../api.ts'
import { useCellRun } from '../../hooks/use-cell-run.ts'
import { useNavigate } from '../../hooks/use-navigate.ts'
import { ApiErrorMessage } from '../../components/ApiErrorMessage/index.tsx'
import { ConnectionNotice } from '../../components/ConnectionNotice/index.tsx'
import { Editor } from '../../components/Editor/index.tsx'
import { ErrorView } from '../../components/ErrorView/index.tsx'
import { LimitsFields, limitsRequest, type LimitsValue } from '../../components/LimitsFields/index.tsx'
import { OutputList } from '../../components/OutputList/index.tsx'
import { ResultView } from '../../components/ResultView/index.tsx'
import { StatusBadge } from '../../components/StatusBadge/index.tsx'
import { UsageBar } from '../../components/UsageBar/index.tsx'
import { NEW_NOTEBOOK_PATH } from '../Notebook/index.tsx'
import './style.css'

const EXAMPLE = `// Ctrl+Enter (⌘+Enter on a Mac) runs the cell.
// console.log writes output; the last expression is the result.
const squares = [1, 2, 3, 4].map((n) => n * n)
console.log('squares:', squares)
squares.reduce((sum, n) => sum + n, 0)
`

export interface CellPageProps {
  /** The cell to show, from the address; none for a new cell. */
  cellId?: string
}

/** @example <CellPage cellId="abc123" /> */
export function CellPage({ cellId }: CellPageProps) {
  const navigate = useNavigate()
  const run = useCellRun()
  const { cell, pending, cancelling, failure, connection } = run
  const [code, setCode] = useState(EXAMPLE)
  const [limits, setLimits] = useState<LimitsValue>({ timeoutMs: '', memoryMb: '' })
  const active = cell !== null && !isFinished(cell.status)
  const busy = pending !== null || active

  useEffect(() => {
    if (cellId === undefined) return run.reset()
    // Resolves null when this cell is already shown (e.g. the address was just set by a run).
    void run.load(cellId).then((job) => job && setCode(job.code))
  }, [cellId])

  useEffect(() => {
    document.title = cell ? `${cell.status} · cell ${cell.id} · cellgate` : 'cellgate'
  }, [cell?.id, cell?.status])

  const start = async () => {
    if (busy) return
    const id = await run.run({ code, ...limitsRequest(limits) })
    if (id) navigate(cellPath(id))
  }

  // The Stop button goes away when the cell ends; if it had focus, hand focus
  // to Run rather than dropping it on <body>.
  const runButton = useRef<HTMLButtonElement>(null)
  const stopButton = useRef<HTMLButtonElement | null>(null)
  const refocusRun = useRef(false)
  const stopRef = useCallback((el: HTMLButtonElement | null) => {
    if (!el && document.activeElement === stopButton.current) refocusRun.current = true
    stopButton.current = el
  }, [])
  useEffect(() => {
    if (!active && refocusRun.current) {
      refocusRun.current = false
      runButton.current?.focus()
    }
  }, [active])

  return (
    <div class="cell-page">
      <header class="cell-page__header">
        <h1 class="cell-page__brand">
          <a href="/">
            cellgate
          </a>
        </h1>
        <p class="cell-page__tagline">JavaScript cells, run in a sandbox</p>
        <a class="cell-page__notebook" href={NEW_NOTEBOOK_PATH}>
          New notebook
        </a>
      </header>

      <main class="cell-page__main">
        <form
          class="cell-page__form"
          aria-label="Cell"
          noValidate
          onSubmit={(e) => {
            e.preventDefault()
            void start()
          }}
        >
          <Editor label="Cell code" describedBy="cell-editor-hint" value={code} onChange={setCode} onRun={start} />
          <p id="cell-editor-hint" class="cell-page__hint">
            Ctrl+Enter (⌘+Enter) runs the cell. Tab leaves the editor.
          </p>
          <div class="cell-page__toolbar">
            <button type="submit" class="cell-page__run" ref={runButton} aria-disabled={busy}>
              Run
            </button>
            {active && (
              <button
                type="button"
                class="cell-page__stop"
                ref={stopRef}
                aria-disabled={cancelling}
                onClick={() => !cancelling && void run.cancel()}
              >
                {cancelling ? 'Stopping…' : 'Stop'}
              </button>
            )}
            <LimitsFields value={limits} onChange={setLimits} />
          </div>
        </form>

        <div class="cell-page__state">
          <div role="status" class="cell-page__status">
            {pending === 'submit' && 'Submitting…'}
            {pending === 'load' && 'Loading cell…'}
            {cell && <StatusBadge status={cell.status} />}
          </div>
          {cell && (
            <p class="cell-page__link">
              Cell{' '}
              <a href={cellPath(cell.id)}>
                {cellPath(cell.id)}
              </a>
            </p>
          )}
          {cell && <UsageBar cell={cell} />}
        </div>

        {connection === 'lost' && <ConnectionNotice />}
        {failure && <ApiErrorMessage error={failure} />}

        {cell && (
          <section class="cell-page__output" aria-labelledby="cell-output-title">
            <h2 id="cell-output-title" class="cell-page__section-title">
              Output
            </h2>
            {cell.outputs.length > 0 ? (
              <OutputList outputs={cell.outputs} />
            ) : (
              <p class="cell-page__empty">{active ? 'Waiting for output…' : 'No output.'}</p>
            )}
          </section>
        )}
        {cell?.error && <ErrorView error={cell.error} />}
        {cell?.result && <ResultView result={cell.result} />}
      </main>
    </div>
  )
}
