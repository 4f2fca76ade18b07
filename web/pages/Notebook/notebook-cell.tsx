/**
 * One cell of the notebook page: its execution count ([1], [*] while it
 * runs), its editor, its controls (run, move, remove, add below) and what
 * its last run showed. Keys in the editor: Ctrl/Cmd+Enter runs it,
 * Shift+Enter runs it and moves to the next cell, Alt+Up/Down move between
 * cells, Escape stops it while it runs.
 */
import { Editor } from '../../components/Editor/index.tsx'
import { ErrorView } from '../../components/ErrorView/index.tsx'
import { OutputList } from '../../components/OutputList/index.tsx'
import { ResultView } from '../../components/ResultView/index.tsx'
import { StatusBadge } from '../../components/StatusBadge/index.tsx'
import type { CellState } from './use-notebook.ts'

export interface NotebookCellProps {
  cell: CellState
  /** 0-based place in the notebook. */
  index: number
  total: number
  /** This cell is the one running. */
  running: boolean
  /** Some cell is running, so no other may start. */
  busy: boolean
  onCode(code: string): void
  onRun(): void
  onRunAndNext(): void
  onFocus(delta: -1 | 1): void
  onStop(): void
  onMove(delta: -1 | 1): void
  onRemove(): void
  onAddBelow(): void
}

/** @example <NotebookCell cell={cell} index={0} total={2} running={false} busy={false} … /> */
export function NotebookCell(props: NotebookCellProps) {
  const { cell, index, total, running, busy } = props
  const n = index + 1
  const count = running ? '*' : cell.count ?? ' '
  return (
    <li class={`notebook-cell${running ? ' notebook-cell--running' : ''}`} data-cell-key={cell.key} aria-label={`Cell ${n}`}>
      <div class="notebook-cell__prompt" aria-label={running ? 'Running' : cell.count ? `Execution count ${cell.count}` : 'Not run yet'}>
        [{count}]
      </div>
      <div class="notebook-cell__body">
        <Editor
          label={`Cell ${n} code`}
          describedBy="notebook-keys-hint"
          value={cell.code}
          onChange={props.onCode}
          onRun={props.onRun}
          keys={{
            'Shift-Enter': () => (props.onRunAndNext(), true),
            'Alt-ArrowUp': () => (props.onFocus(-1), true),
            'Alt-ArrowDown': () => (props.onFocus(1), true),
            Escape: () => running && (props.onStop(), true),
          }}
        />
        <div class="notebook-cell__toolbar">
          <button type="button" class="notebook-cell__run" aria-label={`Run cell ${n}`} aria-disabled={busy} onClick={() => !busy && props.onRun()}>
            Run
          </button>
          <button type="button" aria-label={`Move cell ${n} up`} disabled={index === 0} onClick={() => props.onMove(-1)}>
            ↑
          </button>
          <button type="button" aria-label={`Move cell ${n} down`} disabled={index === total - 1} onClick={() => props.onMove(1)}>
            ↓
          </button>
          <button type="button" aria-label={`Add a cell below cell ${n}`} onClick={props.onAddBelow}>
            + Cell
          </button>
          <button type="button" aria-label={`Remove cell ${n}`} disabled={running} onClick={props.onRemove}>
            Remove
          </button>
          <span role="status" class="notebook-cell__status">
            {cell.status && <StatusBadge status={cell.status} />}
          </span>
        </div>
        {cell.outputs.length > 0 && <OutputList outputs={cell.outputs} />}
        {cell.error && <ErrorView error={cell.error} />}
        {cell.result && <ResultView result={cell.result} />}
      </div>
    </li>
  )
}
