/**
 * The sandbox's transport over a ZeroMQ DEALER connected to the dispatcher's
 * ROUTER: each batch is one multipart message, one JSON frame per message.
 * Incoming frames are validated; a bad frame is logged and skipped.
 */
import type { Dealer } from 'zeromq'
import { decode, encode, toSandboxMessageSchema, type ToSandboxMessage } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { SandboxTransport } from './loop.ts'

/**
 * @example
 *   await serveSandbox(createDealerTransport(dealer, log), { slots: 2, log })
 */
export function createDealerTransport(dealer: Dealer, processLog: Logger): SandboxTransport {
  const log = processLog.child({ component: 'transport' })
  // zeromq allows one send in progress per socket: batches wait their turn.
  let sending = Promise.resolve()
  return {
    send(batch) {
      const frames = batch.map(encode)
      sending = sending
        .then(() => dealer.send(frames))
        .catch((error: unknown) => {
          if (!dealer.closed) log.error({ err: error }, 'send failed')
        })
    },
    receive: receive(dealer, log),
  }
}

async function* receive(dealer: Dealer, log: Logger): AsyncGenerator<ToSandboxMessage> {
  for await (const frames of dealer) {
    for (const frame of frames) {
      let message: ToSandboxMessage
      try {
        message = decode(toSandboxMessageSchema, frame)
      } catch (error) {
        log.warn({ err: error }, 'ignored a bad frame')
        continue
      }
      yield message
    }
  }
}
