/**
 * What the schema of `POST /api/v1/cells` (protocol/http-requests.ts)
 * cannot check: the code's size in UTF-8 bytes, and that a cell in a
 * session does not ask for memory of its own. What a client does not ask
 * for comes from the deployment's defaults (config.limits) in the job service.
 */
import { MAX_CODE_BYTES, type CellRequest } from '../protocol/index.ts'
import { ApiError } from './errors.ts'
import type { CellInput } from './jobs.ts'

/**
 * Checks what the schema cannot: the code's size in UTF-8 bytes, and no memoryMb with a session.
 *
 * @example
 *   const input = checkCellRequest(await readJsonBody(c, cellRequestSchema))
 */
export function checkCellRequest(body: CellRequest): CellInput {
  // A UTF-16 unit is at most 3 UTF-8 bytes: shorter code cannot be over the limit and is not counted.
  if (body.code.length > MAX_CODE_BYTES / 3) {
    const bytes = Buffer.byteLength(body.code, 'utf8')
    if (bytes > MAX_CODE_BYTES) {
      throw new ApiError('payload_too_large', `code: ${bytes} bytes is more than the ${MAX_CODE_BYTES} bytes a cell may have`)
    }
  }
  if (body.session !== undefined && body.memoryMb !== undefined) {
    throw new ApiError('validation_failed', 'memoryMb: a session\'s cells all run with the memoryMb given when the session was created')
  }
  return body
}
