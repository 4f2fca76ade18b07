/**
 * One job as the dispatcher holds it, from submit until the server has
 * acked its `end`: where it is (queued, sent to a sandbox, running, ended),
 * and its ledger, the messages sent to its server that the server has not
 * acked yet.
 *
 * The job numbers its own messages (msgSeq 1, 2, 3… over all of them, and
 * output seq 1, 2, 3… over its outputs), encodes each once and keeps that
 * frame: the same bytes are sent now and replayed when the server restarts.
 */
import { encode, type DispatcherMessage, type JobEnd, type JobSpec, type OutputBody } from '../protocol/index.ts'
import type { QueueHandle } from './fair-queue.ts'
import type { Sandbox } from './pool.ts'

/**
 * queued: waiting in the queue. sent: `run` went to a sandbox, `started` has
 * not come back. running: started. ended: `end` went to the server (the
 * sandbox may still hold the job until it reports its own end).
 */
export type DispatchJobState = 'queued' | 'sent' | 'running' | 'ended'

export class DispatchJob {
  state: DispatchJobState = 'queued'
  /** Times it was sent to a sandbox; a job lost before it started is tried twice at most. */
  attempts = 0
  /** The sandbox that holds it: from `run` until that sandbox reports its end or dies. */
  sandbox: Sandbox | null = null
  queueHandle: QueueHandle<DispatchJob> | null = null
  /** Kills the sandbox if it still holds the job at wallMs + graceMs after `run`. */
  deadline: NodeJS.Timeout | null = null
  cancelRequested = false
  /** Outputs the sandbox sent and their bytes as protocol/output-bytes.ts counts them, checked against limits.outputs and outputBytes. */
  outputs = 0
  outputBytes = 0
  /** performance.now() when it reached the dispatcher, and when its latest `run` went out: its wait and run times (metrics.ts). */
  readonly queuedAt = performance.now()
  sentAt = 0

  private msgSeq = 0
  private outputSeq = 0
  /** Encoded messages msgSeq firstRetained, firstRetained + 1, … not acked yet. */
  private retained: Buffer[] = []
  private firstRetained = 1
  private endSeq = 0

  constructor(
    readonly spec: JobSpec,
    /** The server that submitted it; every message about the job goes there. */
    readonly serverId: string,
  ) {}

  get id(): string {
    return this.spec.jobId
  }

  started(bootId: string, sandboxId: string): Buffer {
    return this.record({ type: 'started', jobId: this.spec.jobId, msgSeq: ++this.msgSeq, bootId, sandboxId })
  }

  output(body: OutputBody): Buffer {
    const output = { seq: ++this.outputSeq, stream: body.stream, mime: body.mime, data: body.data }
    return this.record({ type: 'output', jobId: this.spec.jobId, msgSeq: ++this.msgSeq, output })
  }

  end(end: JobEnd): Buffer {
    this.state = 'ended'
    this.endSeq = ++this.msgSeq
    return this.record({ type: 'end', jobId: this.spec.jobId, msgSeq: this.endSeq, end })
  }

  /**
   * The server stored messages up to msgSeq `upTo`: forget them. Returns true
   * when the `end` is among them, i.e. the dispatcher may forget the job.
   */
  ack(upTo: number): boolean {
    const drop = Math.min(upTo - this.firstRetained + 1, this.retained.length)
    if (drop > 0) {
      this.retained.splice(0, drop)
      this.firstRetained += drop
    }
    return this.endSeq > 0 && upTo >= this.endSeq
  }

  /** Messages not acked yet, oldest first, to send again to a restarted server. */
  unacked(): readonly Buffer[] {
    return this.retained
  }

  private record(message: DispatcherMessage): Buffer {
    const frame = encode(message)
    this.retained.push(frame)
    return frame
  }
}
