/**
 * The audit log's one writer: who did what, from where, when. Records are
 * appended by the services that act (keys, accounts, logins), never by
 * routes, and read by admins (GET /api/v1/audit).
 */
import type { Caller } from '../caller.ts'
import { newRecordId } from '../ids.ts'
import type { AuditDetail, PrincipalStore } from '../store/principals-port.ts'

/**
 * @example
 *   await audit(store, caller, 'key.revoked', { keyId, revoked: 3 })
 */
export async function audit(store: Pick<PrincipalStore, 'appendAudit'>, caller: Caller, action: string, detail: AuditDetail, now = Date.now()): Promise<void> {
  const { principal } = caller
  await store.appendAudit({
    id: newRecordId(),
    at: now,
    action,
    accountId: principal.kind === 'key' ? principal.account.id : null,
    keyId: principal.kind === 'key' ? principal.key.id : null,
    client: caller.client,
    detail,
  })
}
