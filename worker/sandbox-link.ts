/**
 * Where untrusted data enters the dispatcher: every frame a sandbox sends
 * on the sandbox ROUTER. Each frame is validated as a SandboxMessage and
 * checked against what the dispatcher knows: the sender must be a live
 * sandbox of the pool, and a message about a job must come from the sandbox
 * that holds the job. Anything else is dropped and counted, never trusted.
 *
 *   sandbox DEALER (routing id = sandbox id)          dispatcher ROUTER
 *     credit {credits}          ------------------->  pool.credit
 *     started/output/end {jobId} ----------------->  scheduler (job held by sender only)
 *     sessionEnded {session}    ------------------->  scheduler (session held by sender only)
 *                               <-------------------  run {job} / cancel {jobId} / endSession {session}
 */
import { decode, ProtocolError, sandboxMessageSchema, type SandboxMessage } from '../protocol/index.ts'
import type { Drops } from './drops.ts'
import type { Pool, Sandbox } from './pool.ts'
import type { Scheduler } from './scheduler.ts'

export class SandboxLink {
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
      let message: SandboxMessage
      try {
        message = decode(sandboxMessageSchema, parts[i]!)
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err
        this.drops.drop('invalid', sandbox.id, () => err.message)
        continue
      }
      this.handle(sandbox, message)
      // A message may have ended the sandbox (e.g. it overran a limit and was killed).
      if (sandbox.retired !== null) return
    }
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
