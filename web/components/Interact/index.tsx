/**
 * An interact: its controls, and below them what its function showed. The
 * first time that is the outputs that followed the controls in the cell;
 * after a control moves, it is the latest run's outputs and error, which
 * replace them (a run that has shown nothing yet keeps the previous view,
 * so the area does not flicker). Without a session the controls are shown
 * disabled, with why.
 */
import { useContext, useId, useRef, useState } from 'preact/hooks'
import { isFinished, type Output as CellOutput } from '../../api.ts'
import type { CellView } from '../../hooks/use-cell-run.ts'
import { ApiErrorMessage } from '../ApiErrorMessage/index.tsx'
import { ConnectionNotice } from '../ConnectionNotice/index.tsx'
import { ErrorView } from '../ErrorView/index.tsx'
import { Output } from '../Output/index.tsx'
import { mergeConsoleText } from '../OutputList/blocks.ts'
import { InteractContext } from './context.ts'
import { InteractControl } from './control.tsx'
import type { InteractData } from './data.ts'
import { useInteractRun, type Values } from './use-interact-run.ts'
import './style.css'

export interface InteractProps {
  data: InteractData
  /** What the function showed when the cell ran. */
  outputs: CellOutput[]
}

/** @example <Interact data={readInteract(output.data)!} outputs={following} /> */
export function Interact({ data, outputs }: InteractProps) {
  const { api, session } = useContext(InteractContext)
  const [values, setValues] = useState<Values>(() => Object.fromEntries(data.controls.map((c) => [c.name, c.value])))
  const { run, request } = useInteractRun(api, session, data.id)
  const shown = useRef<Pick<CellView, 'outputs' | 'error'>>({ outputs, error: null })
  const cell = run.cell
  if (cell && (cell.outputs.length > 0 || isFinished(cell.status))) shown.current = cell
  const noteId = useId()
  const running = run.pending !== null || (cell !== null && !isFinished(cell.status))

  const change = (name: string, value: Values[string], now?: boolean) => {
    const next = { ...values, [name]: value }
    setValues(next)
    request(next, now)
  }

  return (
    <div class="interact">
      <fieldset class="interact__controls" aria-describedby={session === null ? noteId : undefined}>
        <legend class="interact__legend">Controls</legend>
        {data.controls.map((control) => (
          <InteractControl
            key={control.name}
            control={control}
            value={values[control.name]!}
            disabled={session === null}
            onChange={(value, now) => change(control.name, value, now)}
          />
        ))}
        {session === null && (
          <p id={noteId} class="interact__note">
            Run this cell in a session (in a notebook or an embed) to use its controls.
          </p>
        )}
      </fieldset>
      <div class="interact__output" aria-label="Interact output" aria-live="polite" aria-busy={running}>
        {mergeConsoleText(shown.current.outputs).map((output) => (
          <Output key={output.seq} output={output} />
        ))}
        {shown.current.error && <ErrorView error={shown.current.error} />}
        {run.connection === 'lost' && <ConnectionNotice />}
        {run.failure && <ApiErrorMessage error={run.failure} />}
      </div>
    </div>
  )
}
