/**
 * The session service: creates sessions (within the per-client limit),
 * numbers the cells sent to them, ends them (on DELETE, when idle, when too
 * old), and shows them to clients. Routes call it; the sweep calls
 * `expireSessions`. The dispatcher pins each session to a sandbox and tells
 * the job service when a session's context is lost (jobs.ts stores that).
 *
 * Expiry is also checked whenever a session is read or used, so a client
 * never uses a session past its time, whatever the sweep interval.
 */
import type { SessionsConfig } from '../config/schema.ts'
import { API_BASE, type JobSession, type SessionRequest, type SessionView } from '../protocol/index.ts'
import { ApiError } from './errors.ts'
import { newSessionId } from './ids.ts'
import type { JobService } from './jobs.ts'
import { toSessionView } from './records.ts'
import type { SessionRecord } from './store/port.ts'

export const ENDED_BY_CLIENT = 'the session was ended by its client (DELETE)'

/** Sessions ended per sweep at most; the rest wait for the next one. */
const EXPIRE_BATCH = 1000

/**
 * @example
 *   const sessions = new SessionService(jobs)
 *   const s = await sessions.create('127.0.0.1')
 *   const { session, memoryMb } = await sessions.nextCell(s.id) // { id, cell: 1 }
 */
export class SessionService {
  constructor(readonly jobs: JobService) {}

  /** Throws 429 too_many_sessions when the client already has config.sessions.maxPerClient active sessions. */
  async create(client: string, input: SessionRequest = {}): Promise<SessionRecord> {
    const { sessions, limits } = this.jobs.config
    const now = Date.now()
    const session: SessionRecord = {
      id: newSessionId(),
      status: 'active',
      owner: 'anonymous',
      client,
      memoryMb: input.memoryMb ?? limits.memoryMb,
      createdAt: now,
      lastUsedAt: now,
      endedAt: null,
      endReason: null,
      cells: 0,
    }
    // Sessions past their time still count as active until ended: end those first.
    await expireSessions(this.jobs, now)
    if (!(await this.jobs.store.insertSession(session, sessions.maxPerClient))) {
      throw new ApiError('too_many_sessions', `this client already has ${sessions.maxPerClient} active sessions, the most it may have; end one (DELETE ${API_BASE}/sessions/:id) or wait for one to expire`)
    }
    return session
  }

  /** The session as it is now (ended first if its time is up); null when there is no such session. */
  async get(id: string): Promise<SessionRecord | null> {
    const session = await this.jobs.store.getSession(id)
    if (!session || session.status !== 'active') return session
    const reason = expiryReason(this.jobs.config.sessions, session, Date.now())
    if (reason === null) return session
    await this.end(id, reason)
    return this.jobs.store.getSession(id)
  }

  async view(session: SessionRecord): Promise<SessionView> {
    return toSessionView(session, await this.jobs.store.getSessionCells(session.id), this.expiresAt(session))
  }

  /**
   * Reserves the next cell of a session: its number and the memory limit it
   * runs with. 404 when there is no such session, 409 session_ended (with
   * the reason) when it has ended.
   */
  async nextCell(id: string): Promise<{ session: JobSession; memoryMb: number }> {
    const current = await this.get(id)
    if (!current) throw notFound(id)
    const used = current.status === 'active' ? await this.jobs.store.useSession(id, Date.now()) : null
    if (!used) throw ended((await this.jobs.store.getSession(id)) ?? current)
    return { session: { id, cell: used.cells }, memoryMb: used.memoryMb }
  }

  /** Ends an active session and tells the dispatcher to drop it; false if it was not active. */
  async end(id: string, reason: string): Promise<boolean> {
    const changed = await this.jobs.store.endSession(id, Date.now(), reason)
    if (changed) this.jobs.link.send([{ type: 'endSession', session: id }])
    return changed
  }

  private expiresAt(session: SessionRecord): number {
    const { idleMs, maxLifeMs } = this.jobs.config.sessions
    return Math.min(session.lastUsedAt + idleMs, session.createdAt + maxLifeMs)
  }
}

/** Why an active session is over at `now`, or null while it is not. */
function expiryReason({ idleMs, maxLifeMs }: SessionsConfig, session: SessionRecord, now: number): string | null {
  if (now >= session.createdAt + maxLifeMs) return `the session reached its maximum lifespan of ${maxLifeMs} ms`
  if (now >= session.lastUsedAt + idleMs) return `the session was idle (no cell sent) for ${idleMs} ms`
  return null
}

/**
 * Ends every active session past its idle timeout or maximum lifespan, and
 * tells the dispatcher to drop them. Returns how many it ended.
 */
export async function expireSessions(jobs: JobService, now = Date.now()): Promise<number> {
  const { idleMs, maxLifeMs } = jobs.config.sessions
  const expired = await jobs.store.findExpiredSessions(now - idleMs, now - maxLifeMs, EXPIRE_BATCH)
  let count = 0
  for (const session of expired) {
    if (await jobs.store.endSession(session.id, now, expiryReason(jobs.config.sessions, session, now)!)) count++
  }
  if (expired.length > 0) jobs.link.send(expired.map((s) => ({ type: 'endSession', session: s.id })))
  return count
}

export function notFound(id: string): ApiError {
  return new ApiError('not_found', `no session with id ${JSON.stringify(id.slice(0, 80))}`)
}

function ended(session: SessionRecord): ApiError {
  return new ApiError('session_ended', `session ${session.id} has ended: ${session.endReason ?? 'ended'}`)
}
