/**
 * One embedded cell: its code in a plain textarea (no editor library on
 * someone else's page), Run (or Ctrl/Cmd+Enter), Stop while it runs, the
 * status, outputs as they stream, the error or result, and a link to the
 * cell on cellgate. Failures of the API itself are shown too, never dropped.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { cellPath, isFinished, toApiError, type ApiRequestError } from '../api.ts'
import { ApiErrorMessage } from '../components/ApiErrorMessage/index.tsx'
import { ConnectionNotice } from '../components/ConnectionNotice/index.tsx'
import { ErrorView } from '../components/ErrorView/index.tsx'
import { InteractContext } from '../components/Interact/context.ts'
import { OutputList } from '../components/OutputList/index.tsx'
import { ResultView } from '../components/ResultView/index.tsx'
import { StatusBadge } from '../components/StatusBadge/index.tsx'
import { useCellRun } from '../hooks/use-cell-run.ts'
import type { EmbedContext } from './mount.tsx'

export interface EmbedCellProps extends EmbedContext {
  code: string
  /** Name of the page's session this cell shares with the others naming it. */
  session?: string
}

/** Answers meaning "no such session (any more)". */
const SESSION_GONE = new Set([404, 409, 410])

/** An interact's controls run its function again in the cell's session, so a cell using one gets a session even when unlinked. */
const USES_INTERACT = /\binteract\s*\(/

let privateSessions = 0

/** @example <EmbedCell code="1 + 1" origin={origin} api={api} sessions={sessions} /> */
export function EmbedCell({ code: initialCode, session, origin, api, sessions }: EmbedCellProps) {
  const run = useCellRun(api)
  const { cell, pending, cancelling } = run
  const [code, setCode] = useState(initialCode)
  const [sessionFailure, setSessionFailure] = useState<ApiRequestError | null>(null)
  const usedSession = useRef<string | undefined>(undefined)
  const [sessionId, setSessionId] = useState<string | null>(null)
  // HTML parsing turns U+0000 into U+FFFD, so no data-cellgate-session in markup can name this session.
  const privateName = useMemo(() => `\u0000cell-${++privateSessions}`, [])
  const sessionName = session ?? (USES_INTERACT.test(code) ? privateName : undefined)
  const interactHost = useMemo(() => ({ api, session: sessionId }), [api, sessionId])
  const active = cell !== null && !isFinished(cell.status)
  const busy = pending !== null || active
  const failure = sessionFailure ?? run.failure

  useEffect(() => {
    if (sessionName && usedSession.current && run.failure && SESSION_GONE.has(run.failure.status)) {
      sessions.forget(sessionName, usedSession.current)
    }
  }, [run.failure])

  const start = async () => {
    if (busy) return
    setSessionFailure(null)
    usedSession.current = undefined
    setSessionId(null)
    if (sessionName) {
      try {
        usedSession.current = await sessions.idFor(sessionName)
        setSessionId(usedSession.current)
      } catch (e) {
        setSessionFailure(toApiError(e))
        return
      }
    }
    await run.run({ code, session: usedSession.current })
  }

  return (
    <form
      class="embed-cell"
      aria-label="cellgate cell"
      noValidate
      onSubmit={(e) => {
        e.preventDefault()
        void start()
      }}
    >
      <textarea
        class="embed-cell__code"
        aria-label="Cell code"
        spellcheck={false}
        rows={Math.min(20, Math.max(2, code.split('\n').length))}
        value={code}
        onInput={(e) => setCode(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault()
            void start()
          }
        }}
      />
      <div class="embed-cell__toolbar">
        <button type="submit" class="embed-cell__run" aria-disabled={busy}>
          Run
        </button>
        {active && (
          <button type="button" class="embed-cell__stop" aria-disabled={cancelling} onClick={() => !cancelling && void run.cancel()}>
            {cancelling ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <span role="status" class="embed-cell__status">
          {pending === 'submit' && 'Submitting…'}
          {cell && <StatusBadge status={cell.status} />}
        </span>
        {cell && (
          <a class="embed-cell__link" href={origin + cellPath(cell.id)} target="_blank" rel="noopener noreferrer">
            Open on cellgate
          </a>
        )}
      </div>
      {run.connection === 'lost' && <ConnectionNotice />}
      {failure && <ApiErrorMessage error={failure} />}
      {cell && cell.outputs.length > 0 && (
        <InteractContext.Provider value={interactHost}>
          <OutputList outputs={cell.outputs} />
        </InteractContext.Provider>
      )}
      {cell?.error && <ErrorView error={cell.error} />}
      {cell?.result && <ResultView result={cell.result} />}
    </form>
  )
}
