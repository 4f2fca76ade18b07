/**
 * The body of `POST /api/v1/cells`. Limits a client may ask for are bounded
 * by the hard maxima every process shares (protocol/limits.ts); what it does
 * not ask for comes from the deployment's defaults (config.limits) in the job
 * service. Unknown fields are refused, so a misspelt `timeoutMS` is an error
 * rather than a silently ignored wish.
 */
import { z } from 'zod'
import { MAX_CODE_BYTES, MAX_LIMITS, MIN_MEMORY_MB, MIN_TIME_MS, sessionIdSchema } from '../protocol/index.ts'
import { ApiError } from './errors.ts'
import type { CellInput } from './jobs.ts'

export const cellRequestSchema = z.strictObject({
  code: z.string().min(1, 'must not be empty'),
  /** The cell's wall time limit (limits.wallMs). */
  timeoutMs: z.number().int().min(MIN_TIME_MS).max(MAX_LIMITS.wallMs).optional(),
  memoryMb: z.number().int().min(MIN_MEMORY_MB).max(MAX_LIMITS.memoryMb).optional(),
  /** Run in this session's context (POST /api/v1/sessions made it). */
  session: sessionIdSchema.optional(),
})

/**
 * Checks what the schema cannot: the code's size in UTF-8 bytes.
 *
 * @example
 *   const input = checkCellRequest(await readJsonBody(c, cellRequestSchema))
 */
export function checkCellRequest(body: z.infer<typeof cellRequestSchema>): CellInput {
  // A UTF-16 unit is at most 3 UTF-8 bytes: shorter code cannot be over the limit and is not counted.
  if (body.code.length > MAX_CODE_BYTES / 3) {
    const bytes = Buffer.byteLength(body.code, 'utf8')
    if (bytes > MAX_CODE_BYTES) {
      throw new ApiError('payload_too_large', `code: ${bytes} bytes is more than the ${MAX_CODE_BYTES} bytes a cell may have`)
    }
  }
  return body
}
