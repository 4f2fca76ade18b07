/**
 * Where an HTTP body enters the server: the one place that turns it from
 * bytes into a typed value, or into an ApiError a client can act on
 * (415 wrong content type, 400 invalid_json, 400 validation_failed naming
 * the field). The size limit is the bodyLimit middleware's, in app.ts.
 */
import type { Context } from 'hono'
import type { ZodType } from 'zod'
import { ApiError } from './errors.ts'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * @example
 *   const input = await readJsonBody(c, cellRequestSchema) // typed, or throws ApiError
 */
export async function readJsonBody<T>(c: Context, schema: ZodType<T>): Promise<T> {
  const type = c.req.header('content-type') ?? ''
  if (!JSON_TYPE.test(type)) {
    throw new ApiError('unsupported_media_type', `send the body as JSON with Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(await c.req.text())
  } catch {
    throw new ApiError('invalid_json', 'the request body is not valid JSON')
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.join('.') || ''
    const where = path || (issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'body')
    throw new ApiError('validation_failed', `${where}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}
