/**
 * The notebook service: saved notebooks, which the browser owns (their code
 * and, per cell, what its last run showed). Creating one gives it a short
 * unguessable id, its permalink (ids.ts); saving replaces its title and
 * cells. Routes call it with their caller, so who may save what can be
 * decided here once notebooks have owners.
 *
 * Each client has two budgets (client-budget.ts) that refill over
 * config.notebooks.windowMs: writes (creates and saves), and bytes added to
 * the store (a new notebook's size, or what a save makes it grow by). An
 * author saving as they work never meets them; a flood of notebooks gets
 * 429 with Retry-After. Notebooks are never deleted by retention: a
 * permalink is meant to last, so what they may add is what is bounded.
 */
import type { z } from 'zod'
import type { Config } from '../config/schema.ts'
import type { NotebookView, notebookRequestSchema } from '../protocol/index.ts'
import type { Caller } from './caller.ts'
import { ClientBudget } from './client-budget.ts'
import { inWords } from './durations.ts'
import { ApiError, retryAfterSeconds as seconds } from './errors.ts'
import { newNotebookId } from './ids.ts'
import { toNotebookView } from './records.ts'
import { ANONYMOUS, type NotebookRecord, type Store } from './store/port.ts'

/** A notebook request as the schema leaves it (title filled in). */
type NotebookInput = z.output<typeof notebookRequestSchema>

export interface NotebookServiceDeps {
  store: Pick<Store, 'getNotebook' | 'saveNotebook'>
  config: Pick<Config, 'notebooks'>
}

/**
 * @example
 *   const notebooks = new NotebookService({ store, config })
 *   const saved = await notebooks.create(caller, { title: 'The answer', cells: [{ code: '6 * 7' }] })
 */
export class NotebookService {
  private readonly store: NotebookServiceDeps['store']
  private readonly writes: ClientBudget
  private readonly bytes: ClientBudget

  constructor(deps: NotebookServiceDeps) {
    this.store = deps.store
    const { windowMs, writesPerClient, bytesPerClient } = deps.config.notebooks
    this.writes = new ClientBudget(writesPerClient, windowMs)
    this.bytes = new ClientBudget(bytesPerClient, windowMs)
  }

  /** Throws 429 rate_limited or quota_exceeded (with when to retry) past the caller's budgets. */
  async create(caller: Caller, input: NotebookInput): Promise<NotebookView> {
    const now = Date.now()
    this.spend(caller, sizeOf(input), now)
    const notebook: NotebookRecord = { id: newNotebookId(), ...input, owner: ANONYMOUS, keyId: null, createdAt: now, updatedAt: now }
    await this.store.saveNotebook(notebook)
    return toNotebookView(notebook)
  }

  /** The notebook as last saved; null when there is none. */
  async get(caller: Caller, id: string): Promise<NotebookView | null> {
    const notebook = await this.store.getNotebook(id)
    return notebook && toNotebookView(notebook)
  }

  /** Saves a notebook again (replaces title and cells); null when there is none. 429 as `create`. */
  async save(caller: Caller, id: string, input: NotebookInput): Promise<NotebookView | null> {
    const before = await this.store.getNotebook(id)
    if (!before) return null
    const now = Date.now()
    this.spend(caller, Math.max(0, sizeOf(input) - sizeOf(before)), now)
    // Never back in time, so a client comparing updatedAt sees every save as newer.
    const notebook: NotebookRecord = { ...before, ...input, updatedAt: Math.max(now, before.updatedAt) }
    await this.store.saveNotebook(notebook)
    return toNotebookView(notebook)
  }

  /** Forgets clients whose budgets are whole again; the sweep calls it. */
  forgetRefilled(now = Date.now()): void {
    this.writes.forgetRefilled(now)
    this.bytes.forgetRefilled(now)
  }

  /** One write of `bytes` more stored, from both budgets or from neither. */
  private spend(caller: Caller, bytes: number, now: number): void {
    const window = inWords(this.writes.windowMs)
    const writesWait = this.writes.waitMs(caller.client, 1, now)
    if (writesWait > 0) {
      throw new ApiError('rate_limited', `this address has created or saved ${this.writes.capacity} notebooks in ${window}, the most it may; try again in ${seconds(writesWait)} s`, writesWait)
    }
    const bytesWait = this.bytes.waitMs(caller.client, bytes, now)
    if (bytesWait > 0) {
      throw new ApiError('quota_exceeded', `notebooks saved from this address may add at most ${this.bytes.capacity} bytes to the store in ${window}; this one adds ${bytes}: try again in ${seconds(bytesWait)} s`, bytesWait)
    }
    this.writes.spend(caller.client, 1, now)
    this.bytes.spend(caller.client, bytes, now)
  }
}

/** What a notebook takes in the store, near enough: its title and cells as JSON. */
function sizeOf({ title, cells }: Pick<NotebookRecord, 'title' | 'cells'>): number {
  return Buffer.byteLength(JSON.stringify({ title, cells }))
}
