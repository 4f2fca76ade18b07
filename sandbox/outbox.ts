/**
 * Collects the messages a sandbox produces within one tick of the event loop
 * and sends them as one batch (one ZeroMQ multipart message). Consecutive
 * console outputs of the same job and stream are merged, up to one chunk, so
 * a loop of console.log calls makes a few outputs rather than thousands.
 */
import { MAX_OUTPUT_CHUNK, type MessageOf, type SandboxMessage } from '../protocol/index.ts'

type OutputMessage = MessageOf<SandboxMessage, 'output'>

/**
 * @example
 *   const push = createOutbox((batch) => transport.send(batch))
 *   push({ type: 'credit', credits: 2 }) // sent with whatever else this tick produces
 */
export function createOutbox(send: (batch: SandboxMessage[]) => void): (message: SandboxMessage) => void {
  let batch: SandboxMessage[] = []
  const flush = (): void => {
    const full = batch
    batch = []
    send(full)
  }
  return (message) => {
    if (batch.length === 0) setImmediate(flush)
    const last = batch.at(-1)
    if (last?.type === 'output' && message.type === 'output' && mergeable(last, message)) {
      batch[batch.length - 1] = { ...last, output: { ...last.output, data: last.output.data + message.output.data } }
      return
    }
    batch.push(message)
  }
}

function mergeable(a: OutputMessage, b: OutputMessage): boolean {
  return (
    a.jobId === b.jobId &&
    a.output.stream !== 'display' &&
    a.output.stream === b.output.stream &&
    a.output.mime === b.output.mime &&
    a.output.data.length + b.output.data.length <= MAX_OUTPUT_CHUNK
  )
}
