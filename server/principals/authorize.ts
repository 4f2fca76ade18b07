/**
 * The one place a service turns a decision of rights.ts into an answer:
 * a caller without a key who needs one gets 401 (with WWW-Authenticate, set
 * by app.ts), a key that does not allow the action gets 403 naming what it
 * lacks. Whether the caller may know a thing exists at all (someone else's
 * session, a private cell) is the service's to decide: it answers 404.
 */
import type { Caller } from '../caller.ts'
import { ApiError } from '../errors.ts'
import { can, type Caps, type Scope, type Target } from './rights.ts'

const NOTHING_IN_PARTICULAR: Target = { kind: 'none' }

/**
 * @example
 *   authorize(caller, 'cells:run', { kind: 'none' }, { wallMs: 5000 }) // throws 401 or 403, or returns
 */
export function authorize(caller: Caller, action: Scope, target: Target = NOTHING_IN_PARTICULAR, asks?: Caps): void {
  const decision = can(caller.principal.grant, { action, target, origin: caller.origin, now: Date.now(), ...(asks && { asks }) })
  if (decision.allowed) return
  if (caller.principal.kind === 'anonymous') throw new ApiError('unauthenticated', `this needs a key with the scope ${action} (Authorization: Bearer <key>)`)
  throw new ApiError('forbidden', decision.message)
}

/** Whether the caller acts for the account that owns a record (anonymous owns nothing it can come back to). */
export function actsFor(caller: Caller, owner: string): boolean {
  return caller.principal.kind === 'key' && caller.principal.account.id === owner
}

/**
 * The account whose own things the caller lists ("my notebooks"), after
 * checking it may do `action` on the account as a whole: 401 without a
 * key, 403 for a key restricted to one resource (an anonymous notebook's
 * key among them, which must not list every anonymous notebook).
 *
 * @example
 *   const owner = accountOf(caller, 'notebooks:read')
 *   await store.listNotebooksByOwner(owner, 50)
 */
export function accountOf(caller: Caller, action: Scope): string {
  const { principal } = caller
  if (principal.kind === 'anonymous') throw new ApiError('unauthenticated', 'only an account has things of its own to list: log in, or send a key (Authorization: Bearer <key>)')
  authorize(caller, action)
  return principal.account.id
}
