/**
 * The notebook service: saved notebooks, which the browser owns (their code
 * and, per cell, what its last run showed). Creating one gives it a short
 * unguessable id, its permalink (ids.ts); saving replaces its title and
 * cells. Anyone with a notebook's link may read it; only its owner's keys
 * with `notebooks:write` may save it. A notebook made without a key belongs
 * to `anonymous` and comes with a key of its own, shown once in the answer
 * that made it, that may read and save that notebook and nothing else: the
 * page that made it keeps it, so its author can go on saving, and nobody
 * else (another page a visitor opens, say) can.
 *
 * Each client (an account, or an address for anonymous callers) has two budgets (client-budget.ts) that refill over
 * config.notebooks.windowMs: writes (creates and saves), and bytes added to
 * the store (a new notebook's size, or what a save makes it grow by). An
 * author saving as they work never meets them; a flood of notebooks gets
 * 429 with Retry-After. Notebooks are never deleted by retention: a
 * permalink is meant to last, so what they may add is what is bounded.
 */
import type { z } from 'zod'
import type { Config } from '../config/schema.ts'
import type { NotebookSummaryView, NotebookView, notebookRequestSchema } from '../protocol/index.ts'
import type { Caller } from './caller.ts'
import { ClientBudget } from './client-budget.ts'
import { inWords } from './durations.ts'
import { ApiError, retryAfterSeconds as seconds } from './errors.ts'
import { newNotebookId } from './ids.ts'
import { toNotebookSummaryView, toNotebookView } from './records.ts'
import { accountOf, actsFor, authorize } from './principals/authorize.ts'
import { createRootKey } from './principals/keys.ts'
import { keyOf, ownerOf } from './principals/principal.ts'
import type { Grant } from './principals/rights.ts'
import { ANONYMOUS, type NotebookRecord, type Store } from './store/port.ts'

/** Notebooks "my notebooks" lists at most. */
export const MINE_PAGE = 100

/** A notebook request as the schema leaves it (title filled in). */
type NotebookInput = z.output<typeof notebookRequestSchema>

export interface NotebookServiceDeps {
  store: Pick<Store, 'getNotebook' | 'saveNotebook' | 'listNotebooksByOwner' | 'insertKey' | 'getKey' | 'getKeyByHash' | 'revokeKeyTree' | 'getAccount'>
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
  async create(caller: Caller, input: NotebookInput): Promise<NotebookView & { key?: string }> {
    authorize(caller, 'notebooks:write')
    const now = Date.now()
    this.spend(caller, sizeOf(input), now)
    const { principal } = caller
    const notebook: NotebookRecord = { id: newNotebookId(), ...input, owner: ownerOf(principal), keyId: keyOf(principal), createdAt: now, updatedAt: now }
    if (principal.kind === 'key') {
      await this.store.saveNotebook(notebook)
      return toNotebookView(notebook)
    }
    const grant: Grant = { scopes: ['notebooks:read', 'notebooks:write'], resource: { kind: 'notebook', id: notebook.id }, origins: null, notBefore: null, expiresAt: null, caps: {} }
    const made = await createRootKey(this.store, { id: ANONYMOUS }, { name: `notebook ${notebook.id}`, grant, kind: 'secret' }, now)
    if ('refusal' in made) throw new Error(`a notebook key was refused: ${made.refusal.message}`)
    await this.store.saveNotebook({ ...notebook, keyId: made.record.id })
    return { ...toNotebookView(notebook), key: made.secret }
  }

  /** The notebook as last saved; null when there is none. */
  async get(caller: Caller, id: string): Promise<NotebookView | null> {
    const notebook = await this.store.getNotebook(id)
    return notebook && toNotebookView(notebook)
  }

  /** The caller's account's notebooks, most recently saved first ("my notebooks"); 401 anonymous. */
  async listMine(caller: Caller): Promise<NotebookSummaryView[]> {
    const owner = accountOf(caller, 'notebooks:read')
    return (await this.store.listNotebooksByOwner(owner, MINE_PAGE)).map(toNotebookSummaryView)
  }

  /** Saves a notebook again (replaces title and cells); null when there is none. 429 as `create`. */
  async save(caller: Caller, id: string, input: NotebookInput): Promise<NotebookView | null> {
    const before = await this.store.getNotebook(id)
    if (!before) return null
    if (!actsFor(caller, before.owner)) {
      if (caller.principal.kind === 'anonymous') throw new ApiError('unauthenticated', 'saving a notebook needs its key, or a key of its owner (Authorization: Bearer <key>)')
      throw new ApiError('forbidden', 'the notebook belongs to another account')
    }
    authorize(caller, 'notebooks:write', { kind: 'notebook', id })
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
    const client = budgetHolder(caller)
    const writesWait = this.writes.waitMs(client, 1, now)
    if (writesWait > 0) {
      throw new ApiError('rate_limited', `${who(client)} has created or saved ${this.writes.capacity} notebooks in ${window}, the most it may; try again in ${seconds(writesWait)} s`, writesWait)
    }
    const bytesWait = this.bytes.waitMs(client, bytes, now)
    if (bytesWait > 0) {
      throw new ApiError('quota_exceeded', `notebooks saved by ${who(client)} may add at most ${this.bytes.capacity} bytes to the store in ${window}; this one adds ${bytes}: try again in ${seconds(bytesWait)} s`, bytesWait)
    }
    this.writes.spend(client, 1, now)
    this.bytes.spend(client, bytes, now)
  }
}

/** What a notebook takes in the store, near enough: its title and cells as JSON. */
function sizeOf({ title, cells }: Pick<NotebookRecord, 'title' | 'cells'>): number {
  return Buffer.byteLength(JSON.stringify({ title, cells }))
}

/** Whose budgets a write spends: the account's, or for anonymous callers (and notebook keys) the address's. */
function budgetHolder(caller: Caller): string {
  const { principal } = caller
  return principal.kind === 'key' && principal.account.id !== ANONYMOUS ? `account:${principal.account.id}` : caller.client
}

function who(holder: string): string {
  return holder.startsWith('account:') ? 'this account' : 'this address'
}
