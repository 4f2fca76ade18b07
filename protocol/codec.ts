/**
 * Turns protocol messages into ZeroMQ frames and back. Decoding validates:
 * a frame that is not valid JSON or not a valid message of the expected
 * union yields a ProtocolError, never an untyped value.
 */
import type { ZodType } from 'zod'
import type { DispatcherMessage, SandboxMessage, ServerMessage, ToSandboxMessage } from './messages.ts'

/** Any message of any link: the only thing a frame may carry. */
export type ProtocolMessage = ServerMessage | DispatcherMessage | ToSandboxMessage | SandboxMessage

export class ProtocolError extends Error {
  override name = 'ProtocolError'
}

/** Encodes one message as one frame. */
export function encode(message: ProtocolMessage): Buffer {
  return Buffer.from(JSON.stringify(message))
}

/**
 * Decodes and validates one frame.
 *
 * @example
 *   const msg = decode(sandboxMessageSchema, frame) // SandboxMessage, or throws ProtocolError
 */
export function decode<T>(schema: ZodType<T>, frame: Buffer | string): T {
  return validate(schema, parseFrame(frame))
}

/**
 * The JSON a frame holds, not yet validated: for a receiver that treats a
 * frame that is not even JSON otherwise than an invalid message (sandbox-link.ts).
 *
 * @example
 *   const raw = parseFrame(frame) // unknown, or throws ProtocolError('frame is not JSON')
 */
export function parseFrame(frame: Buffer | string): unknown {
  try {
    return JSON.parse(typeof frame === 'string' ? frame : frame.toString('utf8'))
  } catch {
    throw new ProtocolError('frame is not JSON')
  }
}

/** A parsed frame as a message of the union, or a ProtocolError naming the first thing wrong with it. */
export function validate<T>(schema: ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ProtocolError(`invalid message: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}
