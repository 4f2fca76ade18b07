/**
 * The state of the notebook page and what can be done to it: its cells
 * (code, and the outputs, result or error of each one's last run), running
 * one or all of them in the notebook's session, stopping, saving, loading
 * and importing. The session is made on the first run; when it ends (its
 * sandbox died, it idled out, a running cell was stopped), the reason is
 * kept in `sessionEnded` and nothing runs until the user starts a new one:
 * a session is never silently replaced, as what earlier cells defined is gone.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { sameOriginApi, toApiError, type ApiRequestError, type CellError, type CellResult, type CellsApi, type JobStatus, type NotebookRequest, type Output } from '../../api.ts'
import { followCell, type Connection, type Following } from '../../follow/follow-cell.ts'
import { boundOutputs, parseFile } from './notebook-file.ts'
import { notebookKey, rememberNotebookKey } from './notebook-keys.ts'

export interface CellState {
  /** Stable across moves, for keys and focus. */
  key: number
  code: string
  outputs: Output[]
  result: CellResult | null
  error: CellError | null
  /** Of its last run on this page; null when it has not run here (a saved notebook's outputs are shown anyway). */
  status: JobStatus | null
  /** Its execution count in this session ([1], [2]… in run order); null before it ran here. */
  count: number | null
}

export interface Notebook {
  /** The stored notebook's id; null until it is first saved. */
  id: string | null
  title: string
  cells: CellState[]
  /** The cell running now. */
  running: number | null
  stopping: boolean
  sessionId: string | null
  /** Why the session ended; while set, no cell runs. */
  sessionEnded: string | null
  saving: boolean
  /** When it was last saved (ISO), for the page to say so. */
  savedAt: string | null
  loading: boolean
  failure: ApiRequestError | null
  /** Whether the server answers while a cell is followed (`lost`: it is still being tried). */
  connection: Connection
}

/** The cell being run: its job once submitted, and its follower. */
interface RunningCell {
  key: number
  jobId: string | null
  abort: AbortController
  following?: Following
}

let nextKey = 1

function blankCell(code = ''): CellState {
  return { key: nextKey++, code, outputs: [], result: null, error: null, status: null, count: null }
}

function cellsOf(notebook: NotebookRequest): CellState[] {
  const cells = notebook.cells.map((c) => ({ ...blankCell(c.code), outputs: c.outputs ?? [], result: c.result ?? null, error: c.error ?? null }))
  return cells.length > 0 ? cells : [blankCell()]
}

const EMPTY: Notebook = {
  id: null, title: '', cells: [], running: null, stopping: false, sessionId: null, sessionEnded: null,
  saving: false, savedAt: null, loading: false, failure: null, connection: 'connected',
}

/**
 * @example
 *   const nb = useNotebook()
 *   nb.load(id); nb.runAll(); nb.save().then((id) => navigate(notebookPath(id)))
 */
export function useNotebook(api: CellsApi = sameOriginApi) {
  const [state, setState] = useState<Notebook>(() => ({ ...EMPTY, cells: [blankCell()] }))
  // Async actions read the latest state through this, not through a stale closure.
  const latest = useRef(state)
  latest.current = state

  const actions = useMemo(() => {
    const patch = (p: Partial<Notebook>) => setState((s) => ({ ...s, ...p }))
    const updateCell = (key: number, p: Partial<CellState> | ((c: CellState) => Partial<CellState>)) =>
      setState((s) => ({ ...s, cells: s.cells.map((c) => (c.key === key ? { ...c, ...(typeof p === 'function' ? p(c) : p) } : c)) }))

    let session: Promise<string> | null = null
    let counter = 0
    let current: RunningCell | null = null
    let stopAll = false
    let loadAbort: AbortController | null = null

    function ensureSession(): Promise<string> {
      session ??= api.createSession().then(
        ({ id }) => {
          patch({ sessionId: id })
          return id
        },
        (e: unknown) => {
          session = null
          throw e
        },
      )
      return session
    }

    /** Stores a new notebook, keeping the key it comes with when made without logging in. */
    async function create(body: NotebookRequest) {
      const created = await api.createNotebook(body)
      if (created.key !== undefined) rememberNotebookKey(created.id, created.key)
      return created
    }

    /** After a cell ended other than `done`: if that ended the session (sandbox lost, stopped mid-run), say why. */
    async function checkSession(id: string): Promise<void> {
      const s = await api.getSession(id).catch(() => null)
      if (s?.status === 'ended') patch({ sessionEnded: s.endReason ?? 'the session ended' })
    }

    /** Runs one cell to its end; true when it ended `done` (run all goes on only then). */
    async function run(key: number): Promise<boolean> {
      const cell = latest.current.cells.find((c) => c.key === key)
      if (!cell || current || latest.current.sessionEnded !== null) return false
      if (cell.code.trim() === '') return true
      const abort = new AbortController()
      const running: RunningCell = { key, jobId: null, abort }
      current = running
      patch({ running: key, stopping: false, failure: null })
      try {
        const sessionId = await ensureSession()
        updateCell(key, { status: 'queued', count: ++counter, outputs: [], result: null, error: null })
        const { id } = await api.submitCell({ code: cell.code, session: sessionId }, abort.signal)
        abort.signal.throwIfAborted()
        running.jobId = id
        running.following = followCell(api, id, 0, {
          status: (status) => updateCell(key, { status }),
          outputs: (outputs) => updateCell(key, (c) => ({ outputs: c.outputs.concat(outputs) })),
          connection: (connection) =>
            // What failed for want of the server (a Stop pressed while it was gone) is over once it is back.
            setState((s) => ({ ...s, connection, failure: connection === 'connected' && s.failure?.status === 0 ? null : s.failure })),
        })
        const job = await running.following.ended
        updateCell(key, { status: job.status, outputs: job.outputs, result: job.result, error: job.error })
        if (job.status !== 'done') await checkSession(sessionId)
        return job.status === 'done'
      } catch (e) {
        if (abort.signal.aborted) return false
        const failure = toApiError(e)
        updateCell(key, { status: null, count: null })
        // A refused submit says the session is gone; a cell that cannot be followed says why itself.
        if (running.jobId !== null) patch({ failure })
        else if (failure.code === 'session_ended') patch({ sessionEnded: failure.message })
        else if (failure.status === 404 && latest.current.sessionId) patch({ sessionEnded: failure.message })
        else patch({ failure })
        return false
      } finally {
        current = null
        patch({ running: null, stopping: false, connection: 'connected' })
      }
    }

    return {
      setTitle: (title: string) => patch({ title }),
      setCode: (key: number, code: string) => updateCell(key, { code }),

      /** Adds an empty cell after `index` (-1: first); returns its key. */
      add(index: number): number {
        const cell = blankCell()
        setState((s) => ({ ...s, cells: [...s.cells.slice(0, index + 1), cell, ...s.cells.slice(index + 1)] }))
        return cell.key
      },
      remove(key: number): void {
        if (current?.key === key) return
        setState((s) => {
          const cells = s.cells.filter((c) => c.key !== key)
          return { ...s, cells: cells.length > 0 ? cells : [blankCell()] }
        })
      },
      move(key: number, delta: -1 | 1): void {
        setState((s) => {
          const i = s.cells.findIndex((c) => c.key === key)
          const j = i + delta
          if (i < 0 || j < 0 || j >= s.cells.length) return s
          const cells = [...s.cells]
          ;[cells[i], cells[j]] = [cells[j]!, cells[i]!]
          return { ...s, cells }
        })
      },

      run,
      /** Runs every cell in order, stopping at the first that does not end `done` (or at Stop). */
      async runAll(): Promise<void> {
        if (current) return
        stopAll = false
        for (const { key } of latest.current.cells) {
          if (stopAll || !(await run(key))) break
        }
      },
      /** Stops run all and cancels the running cell. */
      async stop(): Promise<void> {
        stopAll = true
        const running = current
        if (!running?.jobId) return
        patch({ stopping: true })
        await api.cancelCell(running.jobId).catch((e: unknown) => patch({ failure: toApiError(e), stopping: false }))
      },
      /** After the session ended: a fresh one is made on the next run, and counting starts again. */
      newSession(): void {
        session = null
        counter = 0
        patch({ sessionId: null, sessionEnded: null })
      },
      /** Ends the session (leaving the page); pagehide needs the request to outlive the page. */
      endSession(keepalive = false): void {
        const id = latest.current.sessionId
        if (id && latest.current.sessionEnded === null) void api.endSession(id, keepalive).catch(() => {})
      },

      /** Creates or saves the stored notebook; resolves its id, or null when saving failed (see failure). */
      async save(): Promise<string | null> {
        const { id, title, cells } = latest.current
        const body: NotebookRequest = {
          title,
          cells: cells.map((c) => ({ code: c.code, outputs: boundOutputs(c.outputs), result: c.result, error: c.error })),
        }
        patch({ saving: true, failure: null })
        try {
          const saved = id === null ? await create(body) : await api.saveNotebook(id, body, notebookKey(id))
          patch({ id: saved.id, savedAt: new Date(saved.updatedAt).toISOString() })
          return saved.id
        } catch (e) {
          patch({ failure: toApiError(e) })
          return null
        } finally {
          patch({ saving: false })
        }
      },
      /** Shows a stored notebook (its saved outputs; nothing runs). */
      async load(id: string): Promise<void> {
        loadAbort?.abort()
        const abort = (loadAbort = new AbortController())
        patch({ loading: true, failure: null })
        try {
          const notebook = await api.getNotebook(id, abort.signal)
          patch({ id: notebook.id, title: notebook.title, cells: cellsOf(notebook), savedAt: new Date(notebook.updatedAt).toISOString() })
        } catch (e) {
          if (!abort.signal.aborted) patch({ failure: toApiError(e) })
        } finally {
          if (!abort.signal.aborted) patch({ loading: false })
        }
      },
      /** A new, unsaved notebook: from an imported file's text, or empty. Throws NotebookFileError for a bad file. */
      replace(fileText?: string): void {
        const notebook = fileText === undefined ? { title: '', cells: [] } : parseFile(fileText)
        patch({ id: null, title: notebook.title, cells: cellsOf(notebook), savedAt: null, failure: null })
      },
      dispose(): void {
        stopAll = true
        current?.abort.abort()
        current?.following?.stop()
        loadAbort?.abort()
      },
    }
  }, [])

  useEffect(() => actions.dispose, [actions])
  return { ...state, ...actions }
}

