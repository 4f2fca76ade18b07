/**
 * The few named errors the web tier raises, each with a code and an HTTP
 * status. app.ts maps them (and everything else) to `{error: {code, message}}`
 * in one place. An error from a cell is data in the job, never one of these.
 */
import type { ApiErrorCode } from '../protocol/index.ts'

export type ErrorCode = ApiErrorCode

type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 503

const STATUS: Record<ErrorCode, ErrorStatus> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  session_ended: 409,
  too_many_sessions: 429,
  rate_limited: 429,
  quota_exceeded: 429,
  unavailable: 503,
  internal: 500,
}

/** A wait as Retry-After gives it: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: ErrorStatus

  /** For a 429: how long until the request may succeed, sent as Retry-After (whole seconds, rounded up). */
  constructor(readonly code: ErrorCode, message: string, readonly retryAfterMs?: number) {
    super(message)
    this.status = STATUS[code]
  }
}
