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
 */
import type { JobSpec, SandboxMessage, ToSandboxMessage } from '../protocol/index.ts'
import { createOutbox } from './outbox.ts'
import { buildPrelude } from './prelude.ts'
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
}

/**
 * Serves jobs until the transport's `receive` ends, then disposes the
 * isolates (jobs still running are cancelled; their ends may not be sent).
 *
 * @example
 *   await serveSandbox(createDealerTransport(dealer), { slots: 2 })
 */
export async function serveSandbox(transport: SandboxTransport, options: SandboxOptions): Promise<void> {
  const prelude = await buildPrelude()
  const push = createOutbox((batch) => transport.send(batch))
  const slots = Array.from({ length: options.slots }, () => new Slot(prelude))
  const running = new Map<string, Slot>()

  const start = (job: JobSpec): void => {
    const { jobId } = job
    const slot = slots.find((candidate) => !candidate.busy)
    if (running.has(jobId) || slot === undefined) {
      // The dispatcher sends `run` only against credit, once per job: this is its bug, not the cell's.
      console.error(`sandbox: ignored run ${jobId}: ${slot ? 'it is already running' : 'no free slot (no credit was given)'}`)
      return
    }
    running.set(jobId, slot)
    push({ type: 'started', jobId })
    void slot
      .run(job, (output) => push({ type: 'output', jobId, output }))
      .then((end) => {
        running.delete(jobId)
        push({ type: 'end', jobId, ...end })
        push({ type: 'credit', credits: 1 })
      })
  }

  push({ type: 'credit', credits: options.slots })
  try {
    for await (const message of transport.receive) {
      if (message.type === 'run') start(message.job)
      else running.get(message.jobId)?.cancel()
    }
  } finally {
    for (const slot of slots) slot.dispose()
  }
}
