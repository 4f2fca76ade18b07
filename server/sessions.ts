/**
 * The session service: creates sessions (within the per-client limit),
 * numbers the cells sent to them, ends them (on DELETE, when idle, when too
 * old, when their context is lost), and shows them to clients. Routes call
 * it with their caller; the job service asks it for a cell's place in its
 * session; the sweep calls `expire`. The dispatcher pins each session to a
 * sandbox and tells the server when a session's context is lost
 * (dispatcher-inbox.ts stores that).
 *
 * Expiry is also checked whenever a session is read or used, so a client
 * never uses a session past its time, whatever the sweep interval.
 */
import type { Config, SessionsConfig } from '../config/schema.ts'
import { API_BASE, type JobSession, type SessionRequest, type SessionView } from '../protocol/index.ts'
import type { Caller } from './caller.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import { ApiError } from './errors.ts'
import { newSessionId } from './ids.ts'
import { toSessionView } from './records.ts'
import { actsFor, authorize } from './principals/authorize.ts'
import { keyOf, ownerOf } from './principals/principal.ts'
import { ANONYMOUS, type SessionRecord, type Store } from './store/port.ts'

export interface SessionServiceDeps {
  store: Store
  link: Pick<DispatcherLink, 'send'>
  /** The session timeouts and per-client limit; limits.memoryMb is a session's memory unless it asks for its own. */
  config: Pick<Config, 'sessions' | 'limits'>
}

const ENDED_BY_CLIENT = 'the session was ended by its client (DELETE)'

/** Sessions ended per sweep at most; the rest wait for the next one. */
const EXPIRE_BATCH = 1000

/**
 * @example
 *   const sessions = new SessionService({ store, link, config })
 *   const view = await sessions.create(caller)
 *   const { session, memoryMb } = await sessions.nextCell(caller, view.id) // { id, cell: 1 }
 */
export class SessionService {
  private readonly store: Store
  private readonly link: Pick<DispatcherLink, 'send'>
  private readonly config: SessionServiceDeps['config']

  constructor(deps: SessionServiceDeps) {
    this.store = deps.store
    this.link = deps.link
    this.config = deps.config
  }

  /** Throws 429 too_many_sessions when the caller already has config.sessions.maxPerClient active sessions. */
  async create(caller: Caller, input: SessionRequest = {}): Promise<SessionView> {
    authorize(caller, 'sessions:use', { kind: 'none' }, input.memoryMb === undefined ? {} : { memoryMb: input.memoryMb })
    const { sessions, limits } = this.config
    const now = Date.now()
    const { principal } = caller
    const session: SessionRecord = {
      id: newSessionId(),
      status: 'active',
      owner: ownerOf(principal),
      keyId: keyOf(principal),
      // The limit of active sessions counts per account; anonymous callers per address.
      client: principal.kind === 'key' ? `account:${principal.account.id}` : caller.client,
      memoryMb: input.memoryMb ?? Math.min(limits.memoryMb, principal.grant.caps.memoryMb ?? Infinity),
      createdAt: now,
      lastUsedAt: now,
      endedAt: null,
      endReason: null,
      cells: 0,
    }
    // Sessions past their time still count as active until ended: end those first.
    await this.expire(now)
    if (!(await this.store.insertSession(session, sessions.maxPerClient))) {
      throw new ApiError('too_many_sessions', `${principal.kind === 'key' ? 'this account' : 'this client'} already has ${sessions.maxPerClient} active sessions, the most it may have; end one (DELETE ${API_BASE}/sessions/:id) or wait for one to expire`)
    }
    return this.view(session)
  }

  /** The session as it is now; null when there is no such session. */
  async get(caller: Caller, id: string): Promise<SessionView | null> {
    const session = await this.usable(caller, id)
    return session && this.view(session)
  }

  /** Ends the session at its client's request; the session as it is then (also when it had ended before), null when there is none. */
  async end(caller: Caller, id: string): Promise<SessionView | null> {
    const session = await this.usable(caller, id)
    if (!session) return null
    if (session.status === 'active') await this.endWithReason(id, ENDED_BY_CLIENT)
    return this.view((await this.store.getSession(id)) ?? session)
  }

  /**
   * Reserves the next cell of a session: its number and the memory limit it
   * runs with. 404 when there is no such session, 409 session_ended (with
   * the reason) when it has ended.
   */
  async nextCell(caller: Caller, id: string): Promise<{ session: JobSession; memoryMb: number }> {
    const current = await this.usable(caller, id)
    if (!current) throw notFound(id)
    const used = current.status === 'active' ? await this.store.useSession(id, Date.now()) : null
    if (!used) throw ended((await this.store.getSession(id)) ?? current)
    return { session: { id, cell: used.cells }, memoryMb: used.memoryMb }
  }

  /** Ends an active session and tells the dispatcher to drop it; false if it was not active. */
  async endWithReason(id: string, reason: string): Promise<boolean> {
    const changed = await this.store.endSession(id, Date.now(), reason)
    if (changed) this.link.send([{ type: 'endSession', session: id }])
    return changed
  }

  /**
   * Ends every active session past its idle timeout or maximum lifespan, and
   * tells the dispatcher to drop them. Returns how many it ended.
   */
  async expire(now = Date.now()): Promise<number> {
    const { idleMs, maxLifeMs } = this.config.sessions
    const expired = await this.store.findExpiredSessions(now - idleMs, now - maxLifeMs, EXPIRE_BATCH)
    let count = 0
    for (const session of expired) {
      if (await this.store.endSession(session.id, now, expiryReason(this.config.sessions, session, now)!)) count++
    }
    if (expired.length > 0) this.link.send(expired.map((s) => ({ type: 'endSession', session: s.id })))
    return count
  }

  /**
   * The session if the caller may use it, else null (not found: a stranger
   * learns nothing of it). An anonymous session's id is its capability, as
   * for a one-off cell's link; a session of an account is its keys' alone,
   * and a key needs `sessions:use` on it (403 when it lacks that).
   */
  private async usable(caller: Caller, id: string): Promise<SessionRecord | null> {
    const session = await this.current(id)
    if (session === null || (session.owner !== ANONYMOUS && !actsFor(caller, session.owner))) return null
    authorize(caller, 'sessions:use', { kind: 'session', id })
    return session
  }

  /** The stored session, ended first if its time is up. */
  private async current(id: string): Promise<SessionRecord | null> {
    const session = await this.store.getSession(id)
    if (!session || session.status !== 'active') return session
    const reason = expiryReason(this.config.sessions, session, Date.now())
    if (reason === null) return session
    await this.endWithReason(id, reason)
    return this.store.getSession(id)
  }

  private async view(session: SessionRecord): Promise<SessionView> {
    const { idleMs, maxLifeMs } = this.config.sessions
    const expiresAt = Math.min(session.lastUsedAt + idleMs, session.createdAt + maxLifeMs)
    return toSessionView(session, await this.store.getSessionCells(session.id), expiresAt)
  }
}

/** Why an active session is over at `now`, or null while it is not. */
function expiryReason({ idleMs, maxLifeMs }: SessionsConfig, session: SessionRecord, now: number): string | null {
  if (now >= session.createdAt + maxLifeMs) return `the session reached its maximum lifespan of ${maxLifeMs} ms`
  if (now >= session.lastUsedAt + idleMs) return `the session was idle (no cell sent) for ${idleMs} ms`
  return null
}

/** @example throw notFound(id) // 404 not_found: no session with id "…" */
export function notFound(id: string): ApiError {
  return new ApiError('not_found', `no session with id ${JSON.stringify(id.slice(0, 80))}`)
}

function ended(session: SessionRecord): ApiError {
  return new ApiError('session_ended', `session ${session.id} has ended: ${session.endReason ?? 'ended'}`)
}
