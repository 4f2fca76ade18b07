/**
 * The few named errors the web tier raises, each with a code and an HTTP
 * status. app.ts maps them (and everything else) to `{error: {code, message}}`
 * in one place. An error from a cell is data in the job, never one of these.
 */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'unavailable'
  | 'internal'

const STATUS: Record<ErrorCode, 400 | 404 | 405 | 409 | 413 | 415 | 500 | 503> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  unavailable: 503,
  internal: 500,
}

export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: 400 | 404 | 405 | 409 | 413 | 415 | 500 | 503

  constructor(readonly code: ErrorCode, message: string) {
    super(message)
    this.status = STATUS[code]
  }
}
