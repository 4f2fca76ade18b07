/**
 * Turns one batch of dispatcher messages into store updates and the acks to
 * send once they are stored. Pure: the job service applies the updates in one
 * store.apply and sends the acks.
 *
 * Messages of one job keep their order: a run of outputs joins the update
 * that follows it when that update ends the job (outputs are applied before
 * the transition of the same update), so a short job's whole life is usually
 * two updates: started, then outputs+end.
 */
import type { DispatcherMessage } from '../protocol/index.ts'
import { LIVE_STATUSES, type JobUpdate } from './store/port.ts'

export interface Ack {
  jobId: string
  upTo: number
}

export interface BatchPlan {
  updates: JobUpdate[]
  /** Highest msgSeq per job in the batch, stored or deliberately ignored alike. */
  acks: Ack[]
  /** Boot id of the last welcome in the batch, if any. */
  welcomeBoot: string | null
  /** Sessions the dispatcher says have lost their context, with why. */
  sessionsEnded: { session: string; reason: string }[]
}

/**
 * @example
 *   const { updates, acks } = planBatch(messages, Date.now())
 *   await store.apply(updates); link.send([{ type: 'ack', acks }])
 */
export function planBatch(messages: readonly DispatcherMessage[], now: number): BatchPlan {
  const updates: JobUpdate[] = []
  /** Per job, the last update if it has no transition yet (outputs may still join it). */
  const open = new Map<string, JobUpdate>()
  const upTo = new Map<string, number>()
  let welcomeBoot: string | null = null
  const sessionsEnded: BatchPlan['sessionsEnded'] = []

  for (const message of messages) {
    if (message.type === 'welcome') {
      welcomeBoot = message.bootId
      continue
    }
    // A reply to a request is about no job (the link hands it to its request, not here).
    if (message.type === 'workersReport') continue
    if (message.type === 'sessionEnded') {
      sessionsEnded.push({ session: message.session, reason: message.reason })
      continue
    }
    const { jobId } = message
    upTo.set(jobId, Math.max(upTo.get(jobId) ?? 0, message.msgSeq))
    if (message.type === 'output') {
      let update = open.get(jobId)
      if (!update) {
        update = { jobId, outputs: [] }
        updates.push(update)
        open.set(jobId, update)
      }
      update.outputs!.push(message.output)
      continue
    }
    const transition: JobUpdate['transition'] = message.type === 'started'
      ? { from: ['queued'], to: 'running', patch: { startedAt: now, dispatcherBoot: message.bootId, sandboxId: message.sandboxId } }
      : {
          from: LIVE_STATUSES,
          to: message.end.status,
          patch: {
            endedAt: now,
            result: message.end.result ?? null,
            error: message.end.error ?? null,
            usage: message.end.usage ?? null,
          },
        }
    const pending = open.get(jobId)
    // Only an end may take pending outputs along: a started must land before the outputs that follow it.
    if (pending && message.type === 'end') pending.transition = transition
    else updates.push({ jobId, transition })
    open.delete(jobId)
  }

  const acks = [...upTo].map(([jobId, seq]) => ({ jobId, upTo: seq }))
  return { updates, acks, welcomeBoot, sessionsEnded }
}
