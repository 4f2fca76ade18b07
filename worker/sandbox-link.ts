/**
 * Where untrusted data enters the dispatcher: every frame a sandbox sends
 * on the sandbox ROUTER. Each frame is validated as a SandboxMessage and
 * checked against what the dispatcher knows: the sender must be a live
 * sandbox of the pool, and a message about a job must come from the sandbox
 * that holds the job. Anything else is dropped and counted, never trusted.
 *
 * A frame the dispatcher refuses (JSON, but not a valid message) that is
 * about a job the sender holds (its `jobId`, or a `session` whose cell it
 * runs) ends that job `error` SandboxProtocolError at once and cancels it in
 * the sandbox; the sandbox and its other jobs go on. A sandbox is broken,
 * and retired like a dead one, when it sends a frame that is not JSON (it
 * encodes every message with JSON.stringify, so only a corrupt process
 * can), or MAX_REFUSED_IN_A_ROW refused frames with no valid one between.
 *
 *   sandbox DEALER (routing id = sandbox id)          dispatcher ROUTER
 *     credit {credits}          ------------------->  pool.credit
 *     started/output/end {jobId} ----------------->  scheduler (job held by sender only)
 *     sessionEnded {session}    ------------------->  scheduler (session held by sender only)
 *                               <-------------------  run {job} / cancel {jobId} / endSession {session}
 *     output {jobId, data: 1}   ------------------->  refused: job ends error SandboxProtocolError
 *                               <-------------------  cancel {jobId}
 *     "not json"                ------------------->  refused: sandbox retired (its jobs as when it dies)
 */
import { parseFrame, ProtocolError, sandboxMessageSchema, validate, type SandboxMessage } from '../protocol/index.ts'
import type { DispatchJob } from './job.ts'
import type { Drops } from './drops.ts'
import type { Pool, Sandbox } from './pool.ts'
import type { Scheduler } from './scheduler.ts'

/** Refused frames in a row (no valid frame between) after which a sandbox counts as broken. */
export const MAX_REFUSED_IN_A_ROW = 16

/** Characters of the validation error a job's SandboxProtocolError quotes (it may name keys the sandbox chose). */
const MAX_REASON_CHARS = 300

export class SandboxLink {
  /** Per sandbox, refused frames since its last valid one (the tail of a job already ended for one is not counted). */
  private readonly refusedInARow = new WeakMap<Sandbox, number>()

  constructor(
    private readonly pool: Pool,
    private readonly scheduler: Scheduler,
    private readonly drops: Drops,
  ) {}

  /** One ZeroMQ message from the sandbox ROUTER: [routingId, frame, frame, …]. */
  receive(parts: Buffer[]): void {
    const id = parts[0]!.toString('utf8')
    const sandbox = this.pool.get(id)
    if (!sandbox || sandbox.retired !== null) {
      this.drops.drop('unknown-sandbox', printable(id), () => `${parts.length - 1} frame(s)`)
      return
    }
    for (let i = 1; i < parts.length; i++) {
      let raw: unknown
      try {
        raw = parseFrame(parts[i]!)
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err
        this.drops.drop('invalid', sandbox.id, () => err.message)
        this.pool.retire(sandbox, 'broken: it sent a frame that is not JSON')
        return
      }
      let message: SandboxMessage
      try {
        message = validate(sandboxMessageSchema, raw)
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err
        this.drops.drop('invalid', sandbox.id, () => err.message)
        this.refuse(sandbox, raw, err.message)
        if (sandbox.retired !== null) return
        continue
      }
      this.refusedInARow.delete(sandbox)
      this.handle(sandbox, message)
      // A message may have ended the sandbox (e.g. it overran a limit and was killed).
      if (sandbox.retired !== null) return
    }
  }

  /** A frame that parsed but is no valid message: ends the job it is about, if the sender holds one; retires a sandbox past the bound. */
  private refuse(sandbox: Sandbox, raw: unknown, why: string): void {
    const job = this.about(sandbox, raw)
    if (job && job.state === 'ended') return
    if (job) {
      const message = `the sandbox sent a message about this cell that the dispatcher refused (${why.slice(0, MAX_REASON_CHARS)}); the cell was stopped`
      this.scheduler.refused(job, { name: 'SandboxProtocolError', message })
    }
    const refused = (this.refusedInARow.get(sandbox) ?? 0) + 1
    this.refusedInARow.set(sandbox, refused)
    if (refused >= MAX_REFUSED_IN_A_ROW) this.pool.retire(sandbox, `broken: it sent ${refused} invalid frames in a row`)
  }

  /** The job a refused frame names: by its `jobId`, else by a `session` whose cell the sender runs. */
  private about(sandbox: Sandbox, raw: unknown): DispatchJob | undefined {
    if (typeof raw !== 'object' || raw === null) return undefined
    const { jobId, session } = raw as { jobId?: unknown; session?: unknown }
    if (typeof jobId === 'string') return sandbox.jobs.get(jobId)
    return typeof session === 'string' ? this.scheduler.sessionCell(sandbox, session) : undefined
  }

  private handle(sandbox: Sandbox, message: SandboxMessage): void {
    if (message.type === 'credit') {
      this.pool.credit(sandbox, message.credits)
      return
    }
    if (message.type === 'sessionEnded') {
      if (!this.scheduler.sessionLost(sandbox, message.session, message.reason)) {
        this.drops.drop('not-assigned', sandbox.id, () => `sessionEnded for session ${message.session}`)
      }
      return
    }
    const job = sandbox.jobs.get(message.jobId)
    if (!job) {
      this.drops.drop('not-assigned', sandbox.id, () => `${message.type} for job ${message.jobId}`)
      return
    }
    let inTurn = true
    switch (message.type) {
      case 'started':
        inTurn = this.scheduler.started(sandbox, job)
        break
      case 'output':
        inTurn = this.scheduler.output(job, message.output)
        break
      case 'end':
        this.scheduler.ended(sandbox, job, message)
        break
    }
    if (!inTurn) this.drops.drop('out-of-turn', sandbox.id, () => `${message.type} for job ${message.jobId} in state ${job.state}`)
  }
}

/** A routing id from an unknown peer may be any bytes, up to 255: log it short (the JSON log escapes it). */
function printable(id: string): string {
  return id.slice(0, 64)
}
