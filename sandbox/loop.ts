/**
 * The sandbox's job loop, independent of how messages travel (the transport
 * is passed in: a ZeroMQ DEALER in main.ts, memory in tests).
 *
 *   dispatcher                         sandbox
 *        <-- credit {slots} ------------  on start
 *        --- run {job} ---------------->  on a free slot
 *        <-- started, output… ----------  as they happen, batched per tick
 *        --- cancel {jobId} ----------->  (optional) ends it `cancelled`
 *        <-- end {status…}, credit {1} -  one batch when the job ends
 *
 *   sessions (run {job with session}): the cell runs in the session's own
 *   isolate and context (session-slot.ts), made on its first cell
 *        --- endSession {session} ----->  drops the context (cancels its cell)
 *        <-- sessionEnded {session} ----  the context was lost (just before that cell's end)
 */
import type { RunJob, SandboxMessage, ToSandboxMessage } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import { createOutbox } from './outbox.ts'
import { buildPrelude } from './prelude.ts'
import { SessionSlot } from './session-slot.ts'
import { Slot } from './slot.ts'

export interface SandboxTransport {
  /** Sends one batch of messages (one multipart message). */
  send(batch: SandboxMessage[]): void
  /** Messages from the dispatcher, already validated; the loop ends when this ends. */
  receive: AsyncIterable<ToSandboxMessage>
}

export interface SandboxOptions {
  /** Jobs run at once, one isolate each. */
  slots: number
  /** The process's logger (stderr, see main.ts). */
  log: Logger
}

/**
 * Serves jobs until the transport's `receive` ends, then disposes the
 * isolates (jobs still running are cancelled; their ends may not be sent).
 *
 * @example
 *   await serveSandbox(createDealerTransport(dealer, log), { slots: 2, log })
 */
export async function serveSandbox(transport: SandboxTransport, options: SandboxOptions): Promise<void> {
  const prelude = await buildPrelude()
  const log = options.log.child({ component: 'loop' })
  const push = createOutbox((batch) => transport.send(batch))
  const slots = Array.from({ length: options.slots }, () => new Slot(prelude, options.log))
  const sessions = new Map<string, SessionSlot>()
  const running = new Map<string, Slot | SessionSlot>()

  /** A one-off cell takes a free slot; a session's cell its session's slot, made on its first cell. */
  const slotFor = (job: RunJob): Slot | SessionSlot | string => {
    if (running.has(job.jobId)) return 'it is already running'
    if (job.session === undefined) return slots.find((candidate) => !candidate.busy) ?? 'no free slot (no credit was given)'
    let session = sessions.get(job.session.id)
    if (session === undefined) sessions.set(job.session.id, (session = new SessionSlot(prelude, job.limits.memoryMb, options.log)))
    return session.busy ? 'its session is running another cell' : session
  }

  const start = (job: RunJob): void => {
    const { jobId } = job
    const slot = slotFor(job)
    if (typeof slot === 'string') {
      // The dispatcher sends `run` only against credit, once per job, one per session at a time: this is its bug, not the cell's.
      log.error({ jobId, reason: slot }, 'ignored a run')
      return
    }
    running.set(jobId, slot)
    push({ type: 'started', jobId })
    void slot
      .run(job, (output) => push({ type: 'output', jobId, output }))
      .then((end) => {
        running.delete(jobId)
        const id = job.session?.id
        // Before the end: once the dispatcher has the end, it may send the session's next cell.
        if (id !== undefined && slot instanceof SessionSlot && slot.lostReason !== undefined && sessions.get(id) === slot) {
          sessions.delete(id)
          slot.dispose()
          push({ type: 'sessionEnded', session: id, reason: slot.lostReason })
        }
        push({ type: 'end', jobId, ...end })
        push({ type: 'credit', credits: 1 })
        // After the outbox's flush, which setImmediate runs first: the end leaves before the next context is made.
        if (slot instanceof Slot) setImmediate(() => slot.prepareNext())
      })
  }

  const endSession = (id: string): void => {
    const session = sessions.get(id)
    sessions.delete(id)
    session?.dispose()
  }

  push({ type: 'credit', credits: options.slots })
  try {
    for await (const message of transport.receive) {
      if (message.type === 'run') start(message.job)
      else if (message.type === 'cancel') running.get(message.jobId)?.cancel()
      else endSession(message.session)
    }
  } finally {
    for (const slot of [...slots, ...sessions.values()]) slot.dispose()
  }
}
