/**
 * Reading the audit log, for admins: pages newest first, each ending with
 * an opaque cursor (`next`) for the page after it.
 */
import type { AuditPageView } from '../../protocol/index.ts'
import type { Caller } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { AuditCursor, PrincipalStore } from '../store/principals-port.ts'
import { authorize } from './authorize.ts'
import { toAuditView } from './views.ts'

export class AuditService {
  readonly #store: PrincipalStore

  constructor({ store }: { store: PrincipalStore }) {
    this.#store = store
  }

  /**
   * @example
   *   const first = await audit.page(caller, 100)
   *   const second = await audit.page(caller, 100, first.next ?? undefined)
   */
  async page(caller: Caller, limit: number, before?: string): Promise<AuditPageView> {
    authorize(caller, 'admin')
    const records = await this.#store.listAudit({ limit, ...(before !== undefined && { before: readCursor(before) }) })
    const last = records.at(-1)
    return { records: records.map(toAuditView), next: records.length === limit && last ? writeCursor({ at: last.at, id: last.id }) : null }
  }
}

function writeCursor(cursor: AuditCursor): string {
  return Buffer.from(`${cursor.at}.${cursor.id}`).toString('base64url')
}

function readCursor(raw: string): AuditCursor {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(raw.slice(0, 200), 'base64url').toString('utf8'))
  if (!match) throw new ApiError('validation_failed', 'before: not a cursor this server gave')
  return { at: Number(match[1]), id: match[2]! }
}
