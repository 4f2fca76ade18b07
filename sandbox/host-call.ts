/**
 * Validates the calls a cell's context makes to the host (isolate/wire.ts).
 * Only the prelude holds `post`, but the cell controls everything around
 * it, so the sandbox checks each call like any untrusted input and drops
 * what is not a valid HostCall. Hand-written rather than a zod schema: this
 * runs once per console.log, and a flood of them is a failure mode we test.
 */
import { TABLE_MIME } from './isolate/display.ts'
import { INTERACT_MIME } from './isolate/interact.ts'
import type { HostCall, PostedStream } from './isolate/wire.ts'

/** Output mime types a cell may produce: text on stdout/stderr, the display helpers' and interact's types on display. */
export const OUTPUT_MIMES: ReadonlySet<string> = new Set(['text/plain', 'text/html', 'application/json', 'image/svg+xml', 'image/png', TABLE_MIME, INTERACT_MIME])
const STREAMS: ReadonlySet<unknown> = new Set<PostedStream>(['stdout', 'stderr', 'display'])
const TIMEOUT_MAX = 2 ** 31 - 1

const isString = (value: unknown): value is string => typeof value === 'string'
const isOptionalString = (value: unknown): value is string | undefined => value === undefined || typeof value === 'string'
const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0

export function readHostCall(call: unknown[]): HostCall | undefined {
  const [kind, a, b, c] = call
  switch (kind) {
    case 'output':
      return STREAMS.has(a) && isString(b) && OUTPUT_MIMES.has(b) && isString(c) ? ['output', a as PostedStream, b, c] : undefined
    case 'timer':
      return isId(a) && Number.isInteger(b) && (b as number) >= 1 && (b as number) <= TIMEOUT_MAX && typeof c === 'boolean'
        ? ['timer', a, b as number, c]
        : undefined
    case 'clear':
      return typeof a === 'number' ? ['clear', a] : undefined
    case 'result':
      return isOptionalString(a) && isOptionalString(b) ? ['result', a, b] : undefined
    case 'error':
      return isString(a) && isString(b) && isOptionalString(c) ? ['error', a, b, c] : undefined
    case 'memory':
      return typeof a === 'number' ? ['memory', a] : undefined
    default:
      return undefined
  }
}
