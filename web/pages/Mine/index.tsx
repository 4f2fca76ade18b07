/**
 * The account's own things (`/mine`): its notebooks, most recently saved
 * first, and its recent cells, newest first, each a link to its page.
 * Visitors are asked to log in: only an account has things of its own.
 */
import { useEffect, useState } from 'preact/hooks'
import { accountApi, type JobSummaryView, type NotebookSummaryView } from '../../account-api.ts'
import { cellPath, notebookPath, toApiError, type ApiRequestError } from '../../api.ts'
import { ApiErrorMessage } from '../../components/ApiErrorMessage/index.tsx'
import { LoginRequired } from '../../components/LoginRequired/index.tsx'
import { StatusBadge } from '../../components/StatusBadge/index.tsx'
import { useMe } from '../../hooks/use-me.ts'
import { NEW_NOTEBOOK_PATH } from '../Notebook/index.tsx'
import './style.css'

/** @example <Route path="/mine" component={MinePage} /> */
export function MinePage() {
  const me = useMe()
  const [notebooks, setNotebooks] = useState<NotebookSummaryView[] | null>(null)
  const [cells, setCells] = useState<JobSummaryView[] | null>(null)
  const [failure, setFailure] = useState<ApiRequestError | null>(null)
  const loggedIn = me !== null && !me.anonymous

  useEffect(() => {
    document.title = 'Mine · cellgate'
    if (!loggedIn) return
    const failed = (e: unknown) => setFailure(toApiError(e))
    accountApi.myNotebooks().then(({ notebooks }) => setNotebooks(notebooks), failed)
    accountApi.myCells().then(({ cells }) => setCells(cells), failed)
  }, [loggedIn])

  if (me === null || me.anonymous) return <LoginRequired me={me} title="Mine" pageClass="mine-page" next="/mine" what="see your notebooks and cells" />

  return (
    <main class="mine-page">
      <h1>{me.account.name}'s notebooks and cells</h1>
      {failure && <ApiErrorMessage error={failure} />}
      <section aria-labelledby="mine-notebooks">
        <h2 id="mine-notebooks">My notebooks</h2>
        {notebooks === null ? (
          <p>Loading…</p>
        ) : notebooks.length === 0 ? (
          <p>
            None yet. <a href={NEW_NOTEBOOK_PATH}>Start a notebook</a>.
          </p>
        ) : (
          <ul class="mine-page__list" aria-label="My notebooks">
            {notebooks.map((n) => (
              <li key={n.id}>
                <a href={notebookPath(n.id)}>{n.title || 'Untitled notebook'}</a>
                <span class="mine-page__meta">
                  {n.cellCount} {n.cellCount === 1 ? 'cell' : 'cells'} · saved {new Date(n.updatedAt).toLocaleString()}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="mine-cells">
        <h2 id="mine-cells">My recent cells</h2>
        {cells === null ? (
          <p>Loading…</p>
        ) : cells.length === 0 ? (
          <p>
            None yet. <a href="/">Run a cell</a>.
          </p>
        ) : (
          <ul class="mine-page__list" aria-label="My recent cells">
            {cells.map((c) => (
              <li key={c.id}>
                <StatusBadge status={c.status} />
                <a href={cellPath(c.id)}>
                  <code>{firstLine(c.code)}</code>
                </a>
                <span class="mine-page__meta">{new Date(c.createdAt).toLocaleString()}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  )
}

function firstLine(code: string): string {
  const line = code.split('\n').find((l) => l.trim() !== '') ?? ''
  return line.length > 80 ? `${line.slice(0, 80)}…` : line || '(empty)'
}
