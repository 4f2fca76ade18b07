/**
 * The notebook page: many cells sharing one session, run one by one or all
 * in order, each keeping its outputs and execution count. `/notebooks/new`
 * is an empty notebook; Save stores it and moves the address to
 * `/notebooks/:id`, its permalink, which shows the saved code and outputs.
 * Export downloads it as a .json file; Import opens such a file as a new,
 * unsaved notebook.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { notebookPath, sameOriginApi } from '../../api.ts'
import { ApiErrorMessage } from '../../components/ApiErrorMessage/index.tsx'
import { ConnectionNotice } from '../../components/ConnectionNotice/index.tsx'
import { useNavigate } from '../../hooks/use-navigate.ts'
import { InteractContext } from '../../components/Interact/context.ts'
import { fileName, NotebookFileError, toFileText } from './notebook-file.ts'
import { NotebookCell } from './notebook-cell.tsx'
import { useNotebook } from './use-notebook.ts'
import './style.css'

export const NEW_NOTEBOOK_PATH = '/notebooks/new'

export interface NotebookPageProps {
  /** The stored notebook to show, from the address; none for a new one. */
  notebookId?: string
}

/** @example <NotebookPage notebookId="AbC123xyz_-0" /> */
export function NotebookPage({ notebookId }: NotebookPageProps) {
  const navigate = useNavigate()
  const nb = useNotebook()
  // Interacts run their function again in the notebook's session, while it lives.
  const interactSession = nb.sessionEnded === null ? nb.sessionId : null
  const interactHost = useMemo(() => ({ api: sameOriginApi, session: interactSession }), [interactSession])
  const [fileError, setFileError] = useState<string | null>(null)
  const list = useRef<HTMLOListElement>(null)
  const busy = nb.running !== null

  useEffect(() => {
    // The address was just set by Save or Import: what is shown is that notebook already.
    if ((notebookId ?? null) === nb.id) return
    if (notebookId === undefined) nb.replace()
    else void nb.load(notebookId)
  }, [notebookId])

  useEffect(() => {
    document.title = `${nb.title || 'Notebook'} · cellgate`
  }, [nb.title])

  // The session holds memory in a sandbox: end it when the page goes away rather than wait for its idle timeout.
  useEffect(() => {
    const onHide = () => nb.endSession(true)
    addEventListener('pagehide', onHide)
    return () => {
      removeEventListener('pagehide', onHide)
      nb.endSession()
    }
  }, [])

  /** Focuses a cell's editor; a new cell's editor may still be loading, so it tries for a few frames. */
  const focusCell = (key: number, tries = 30) => {
    const content = list.current?.querySelector<HTMLElement>(`[data-cell-key="${key}"] .cm-content`)
    if (content) content.focus()
    else if (tries > 0) requestAnimationFrame(() => focusCell(key, tries - 1))
  }
  const focusAt = (index: number) => {
    const cell = nb.cells[index]
    if (cell) focusCell(cell.key)
  }

  const save = async () => {
    const id = await nb.save()
    if (id) navigate(notebookPath(id))
  }

  const exportFile = () => {
    const blob = new Blob([toFileText({ title: nb.title, cells: nb.cells.map(({ code, outputs, result, error }) => ({ code, outputs, result, error })) })], { type: 'application/json' })
    const a = document.createElement('a')
    a.href = URL.createObjectURL(blob)
    a.download = fileName(nb.title)
    a.click()
    URL.revokeObjectURL(a.href)
  }

  const importFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0]
    input.value = ''
    if (!file) return
    try {
      nb.replace(await file.text())
      setFileError(null)
      navigate(NEW_NOTEBOOK_PATH)
    } catch (e) {
      setFileError(e instanceof NotebookFileError ? e.message : String(e))
    }
  }

  return (
    <div class="notebook-page">
      <header class="notebook-page__header">
        <p class="notebook-page__brand">
          <a href="/">
            cellgate
          </a>
        </p>
        <h1 class="visually-hidden">Notebook</h1>
        <label class="notebook-page__title">
          <span class="visually-hidden">Notebook title</span>
          <input type="text" placeholder="Untitled notebook" maxLength={200} value={nb.title} onInput={(e) => nb.setTitle(e.currentTarget.value)} />
        </label>
        <a href={NEW_NOTEBOOK_PATH}>
          New notebook
        </a>
      </header>

      <div class="notebook-page__toolbar" role="toolbar" aria-label="Notebook">
        <button type="button" class="notebook-page__run-all" aria-disabled={busy} onClick={() => !busy && void nb.runAll()}>
          Run all
        </button>
        {busy && (
          <button type="button" class="notebook-page__stop" aria-disabled={nb.stopping} onClick={() => !nb.stopping && void nb.stop()}>
            {nb.stopping ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <button type="button" onClick={() => focusCell(nb.add(nb.cells.length - 1))}>
          Add cell
        </button>
        <button type="button" aria-disabled={nb.saving} onClick={() => !nb.saving && void save()}>
          {nb.saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={exportFile}>
          Export
        </button>
        <label class="notebook-page__import">
          Import
          <input type="file" accept="application/json,.json" class="visually-hidden" onChange={(e) => void importFile(e.currentTarget)} />
        </label>
        <span role="status" class="notebook-page__saved">
          {nb.loading && 'Loading notebook…'}
          {nb.id && nb.savedAt && (
            <>
              Saved ·{' '}
              <a href={notebookPath(nb.id)}>
                permalink
              </a>
            </>
          )}
        </span>
      </div>
      <p id="notebook-keys-hint" class="notebook-page__hint">
        Ctrl+Enter (⌘+Enter) runs a cell, Shift+Enter runs it and moves to the next, Alt+↑/↓ moves between cells, Escape stops a running cell.
      </p>

      {nb.sessionEnded !== null && (
        <div class="notebook-page__ended" role="alert">
          <strong>The session ended: {nb.sessionEnded}</strong>
          <p>What earlier cells defined is gone. Start a new session to run cells again (counting starts at 1).</p>
          <button type="button" onClick={nb.newSession}>
            Start a new session
          </button>
        </div>
      )}
      {nb.connection === 'lost' && <ConnectionNotice />}
      {nb.failure && <ApiErrorMessage error={nb.failure} />}
      {fileError && (
        <div class="api-error" role="alert">
          <strong class="api-error__title">Cannot import that file</strong>
          <p class="api-error__message">{fileError}</p>
        </div>
      )}

      <InteractContext.Provider value={interactHost}>
        <ol class="notebook-page__cells" ref={list}>
          {nb.cells.map((cell, index) => (
            <NotebookCell
              key={cell.key}
              cell={cell}
              index={index}
              total={nb.cells.length}
              running={nb.running === cell.key}
              busy={busy}
              onCode={(code) => nb.setCode(cell.key, code)}
              onRun={() => !busy && void nb.run(cell.key)}
              onRunAndNext={() => {
                if (!busy) void nb.run(cell.key)
                const next = nb.cells[index + 1]
                focusCell(next ? next.key : nb.add(index))
              }}
              onFocus={(delta) => focusAt(index + delta)}
              onStop={() => void nb.stop()}
              onMove={(delta) => nb.move(cell.key, delta)}
              onRemove={() => nb.remove(cell.key)}
              onAddBelow={() => focusCell(nb.add(index))}
            />
          ))}
        </ol>
      </InteractContext.Provider>
    </div>
  )
}
