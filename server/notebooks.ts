/**
 * The notebook service: saved notebooks, which the browser owns (their code
 * and, per cell, what its last run showed). Creating one gives it a short
 * unguessable id, its permalink (ids.ts); saving replaces its title and
 * cells. Routes call it with their caller, so who may save what can be
 * decided here once notebooks have owners.
 */
import type { z } from 'zod'
import type { NotebookView, notebookRequestSchema } from '../protocol/index.ts'
import type { Caller } from './caller.ts'
import { newNotebookId } from './ids.ts'
import { toNotebookView } from './records.ts'
import type { NotebookRecord, Store } from './store/port.ts'

/** A notebook request as the schema leaves it (title filled in). */
type NotebookInput = z.output<typeof notebookRequestSchema>

/**
 * @example
 *   const notebooks = new NotebookService({ store })
 *   const saved = await notebooks.create(caller, { title: 'The answer', cells: [{ code: '6 * 7' }] })
 */
export class NotebookService {
  private readonly store: Pick<Store, 'getNotebook' | 'saveNotebook'>

  constructor(deps: { store: Pick<Store, 'getNotebook' | 'saveNotebook'> }) {
    this.store = deps.store
  }

  async create(caller: Caller, input: NotebookInput): Promise<NotebookView> {
    const now = Date.now()
    const notebook: NotebookRecord = { id: newNotebookId(), ...input, createdAt: now, updatedAt: now }
    await this.store.saveNotebook(notebook)
    return toNotebookView(notebook)
  }

  /** The notebook as last saved; null when there is none. */
  async get(caller: Caller, id: string): Promise<NotebookView | null> {
    const notebook = await this.store.getNotebook(id)
    return notebook && toNotebookView(notebook)
  }

  /** Saves a notebook again (replaces title and cells); null when there is none. */
  async save(caller: Caller, id: string, input: NotebookInput): Promise<NotebookView | null> {
    const before = await this.store.getNotebook(id)
    if (!before) return null
    // Never back in time, so a client comparing updatedAt sees every save as newer.
    const notebook: NotebookRecord = { ...before, ...input, updatedAt: Math.max(Date.now(), before.updatedAt) }
    await this.store.saveNotebook(notebook)
    return toNotebookView(notebook)
  }
}
