/**
 * The sandbox's transport over a ZeroMQ DEALER connected to the dispatcher's
 * ROUTER: each batch is one multipart message, one JSON frame per message.
 * Incoming frames are validated; a bad frame is logged and skipped.
 */
import type { Dealer } from 'zeromq'
import { decode, encode, toSandboxMessageSchema, type ToSandboxMessage } from '../protocol/index.ts'
import type { SandboxTransport } from './loop.ts'

export function createDealerTransport(dealer: Dealer): SandboxTransport {
  // zeromq allows one send in progress per socket: batches wait their turn.
  let sending = Promise.resolve()
  return {
    send(batch) {
      const frames = batch.map(encode)
      sending = sending
        .then(() => dealer.send(frames))
        .catch((error: unknown) => {
          if (!dealer.closed) console.error(`sandbox: send failed: ${String(error)}`)
        })
    },
    receive: receive(dealer),
  }
}

async function* receive(dealer: Dealer): AsyncGenerator<ToSandboxMessage> {
  for await (const frames of dealer) {
    for (const frame of frames) {
      let message: ToSandboxMessage
      try {
        message = decode(toSandboxMessageSchema, frame)
      } catch (error) {
        console.error(`sandbox: ignored a bad frame: ${String(error)}`)
        continue
      }
      yield message
    }
  }
}
