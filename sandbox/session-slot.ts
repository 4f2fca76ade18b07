/**
 * Where one session's context lives in a sandbox: an isolate of its own,
 * made on the session's first cell, holding one context that every cell of
 * the session runs in, until the session ends or the context is lost.
 *
 * Why an isolate per session rather than a session context in one of the
 * sandbox's slots: a slot is shared by one-off cells, and a slot's isolate
 * is disposed to stop a runaway cell or replaced for another memory limit,
 * which would take every session in it along; and a session's heap grows
 * with what its cells keep, which its own isolate's memory limit bounds for
 * that session alone. Sessions still take the sandbox's credits like other
 * jobs, so they share its CPU under the same slot count.
 *
 * The context is lost when its isolate goes: the cell ran out of memory, or
 * was cancelled while its code was running (see run-cell.ts). `lostReason`
 * then says why, for the session's client.
 */
import type ivm from 'isolated-vm'
import type { RunJob, OutputBody } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import { Engine } from './engine.ts'
import { runCell, type CellEnd, type RunningCell } from './run-cell.ts'
import type { Enter } from './isolate/wire.ts'

export class SessionSlot {
  readonly #engine: Engine
  readonly #context: ivm.Context
  readonly #enter: ivm.Reference<Enter>
  #running: RunningCell | undefined
  /** Why the context is gone, once it is. */
  lostReason: string | undefined

  /** The isolate's memory limit is the first cell's (the server gives every cell of a session the same). */
  constructor(prelude: string, memoryMb: number, log: Logger) {
    this.#engine = new Engine(prelude, memoryMb, log)
    this.#context = this.#engine.isolate.createContextSync()
    this.#enter = this.#engine.prelude.runSync(this.#context, { reference: true }) as ivm.Reference<Enter>
  }

  get busy(): boolean {
    return this.#running !== undefined
  }

  /**
   * @example
   *   const end = await session.run(job, (output) => outbox.push(output))
   *   if (session.lostReason) // tell the dispatcher the session ended
   */
  async run(job: RunJob, onOutput: (output: OutputBody) => void): Promise<CellEnd> {
    const running = runCell(this.#engine, job, onOutput, { context: this.#context, enter: this.#enter })
    this.#running = running
    try {
      const end = await running.ended
      if (this.#engine.disposed) this.lostReason = lostReason(job.jobId, end)
      return end
    } finally {
      this.#running = undefined
    }
  }

  cancel(): void {
    this.#running?.cancel()
  }

  dispose(): void {
    this.cancel()
    this.#engine.dispose()
  }
}

function lostReason(jobId: string, end: CellEnd): string {
  if (end.error?.name === 'MemoryLimitExceeded') return `cell ${jobId} ran out of memory, which discarded the session's context`
  if (end.status === 'cancelled') return `cell ${jobId} was cancelled while its code was running; stopping it discarded the session's context`
  return `cell ${jobId} broke the session's isolate (${end.error?.name ?? end.status}), which discarded the session's context`
}
