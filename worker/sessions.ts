/**
 * The dispatcher's sessions: which sandbox holds each session's context,
 * and the session's cells waiting their turn. A session is pinned to the
 * sandbox that runs its first cell (the one with the fewest sessions among
 * those with a free slot); all its later cells run there, one at a time, in
 * the order they were submitted.
 *
 * A session ends when its server ends it (endSession), when its sandbox
 * dies, or when the sandbox reports its context lost. An ended session is
 * remembered (a bounded list), so a cell that still arrives for it ends
 * `lost` with the reason instead of running in an empty context; so does a
 * cell after the first of a session this dispatcher never held (it
 * restarted since the session began).
 */
import type { DispatchJob } from './job.ts'
import type { Sandbox } from './pool.ts'

/** Ended sessions remembered for cells that still arrive; the oldest are forgotten first. */
const MAX_ENDED = 10_000

/** Why a session the server still counts active ended, when this dispatcher never held it (checkSessions). */
export const SANDBOX_GONE = 'the sandbox holding this session\'s context went away (the dispatcher restarted since its last cell); the session ended'

export const NOT_HELD = 'this session\'s context is in no sandbox (the dispatcher restarted since its previous cell); it is gone'

export class DispatchSession {
  /** Cells waiting for the one before them to end. */
  readonly waiting: DispatchJob[] = []
  /** The cell the sandbox holds (sent, running, or ended by the dispatcher but not yet by the sandbox). */
  current: DispatchJob | null = null
  /** Where the context is; null until the first cell is sent. */
  sandbox: Sandbox | null = null

  constructor(
    readonly id: string,
    /** The server that submitted its latest cell, told when the session is lost. */
    public serverId: string,
  ) {}
}

export class SessionTable {
  private readonly live = new Map<string, DispatchSession>()
  private readonly ended = new Map<string, string>()
  /** Sessions with a cell waiting and none in a sandbox: the scheduler sends their next cell first. */
  readonly ready = new Set<DispatchSession>()

  get size(): number {
    return this.live.size
  }

  get(id: string): DispatchSession | undefined {
    return this.live.get(id)
  }

  /** Queues a cell of a session; returns why it cannot run instead, when its session is gone. */
  add(job: DispatchJob): string | null {
    const { id, cell } = job.spec.session!
    const gone = this.ended.get(id)
    if (gone !== undefined) return gone
    let session = this.live.get(id)
    if (!session) {
      if (cell > 1) return NOT_HELD
      this.live.set(id, (session = new DispatchSession(id, job.serverId)))
    }
    session.serverId = job.serverId
    session.waiting.push(job)
    if (!session.current) this.ready.add(session)
    return null
  }

  /** The session's next cell goes to `sandbox` (which it is pinned to from now on). */
  take(session: DispatchSession, sandbox: Sandbox): DispatchJob {
    if (!session.sandbox) {
      session.sandbox = sandbox
      sandbox.sessions.add(session.id)
    }
    const job = session.waiting.shift()!
    session.current = job
    this.ready.delete(session)
    return job
  }

  /** The sandbox no longer holds the cell; true when the session has another cell ready to go. */
  left(job: DispatchJob): boolean {
    const session = this.live.get(job.spec.session!.id)
    if (!session || session.current !== job) return false
    session.current = null
    if (session.waiting.length === 0) return false
    this.ready.add(session)
    return true
  }

  /** Takes a cell that has not been sent out of its session's line; false if it was not waiting. */
  unqueue(job: DispatchJob): boolean {
    const session = this.live.get(job.spec.session!.id)
    const at = session?.waiting.indexOf(job) ?? -1
    if (at === -1) return false
    session!.waiting.splice(at, 1)
    if (session!.waiting.length === 0) this.ready.delete(session!)
    return true
  }

  /** Why the session ended, if this dispatcher ended it and still remembers. */
  endedReason(id: string): string | undefined {
    return this.ended.get(id)
  }

  /** Forgets the session and remembers why it ended; returns it (with its cells) if it was live. */
  end(id: string, reason: string): DispatchSession | undefined {
    const session = this.live.get(id)
    this.live.delete(id)
    if (session) {
      this.ready.delete(session)
      session.sandbox?.sessions.delete(id)
    }
    this.ended.delete(id)
    this.ended.set(id, reason)
    if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.keys().next().value!)
    return session
  }
}
