/**
 * What HTTP clients send to make keys, accounts and logins, validated where
 * it enters (server/request-body.ts). Times are ISO 8601 strings or epoch
 * milliseconds; a content prefix is an absolute path of plain segments.
 */
import { z } from 'zod'
import { sessionIdSchema } from './job.ts'
import { MAX_LIMITS } from './limits.ts'
import { notebookIdSchema } from './http-requests.ts'
import { CAP_NAMES, SCOPES } from './scopes.ts'

const time = z.union([z.number().int().min(0), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))])

/** `/a/b`: absolute, no empty, `.` or `..` segment, so containment by segments means what it says. */
const contentPrefix = z.string().min(1).max(1024).regex(/^(\/[^/\0]+)+\/?$|^\/$/, 'must be an absolute path such as /reports/2026')
  .refine((p) => !p.split('/').some((segment) => segment === '.' || segment === '..'), 'must not have . or .. segments')

export const resourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('notebook'), id: notebookIdSchema }),
  z.strictObject({ kind: z.literal('session'), id: sessionIdSchema }),
  z.strictObject({ kind: z.literal('content'), prefix: contentPrefix }),
])

/** scheme://host[:port], as browsers send Origin. */
const originSchema = z.string().max(256).regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be an origin such as https://course.example.org')

const capsSchema = z.strictObject(Object.fromEntries(CAP_NAMES.map((name) => [name, z.number().int().min(0).max(MAX_LIMITS[name]).optional()])) as Record<(typeof CAP_NAMES)[number], z.ZodOptional<z.ZodNumber>>)

/**
 * `POST /api/v1/keys`: a sub-key of the key the request is made with. A
 * dimension left out is the parent's; asking for more than the parent has
 * is refused (403, naming the dimension), never clamped.
 */
export const keyRequestSchema = z.strictObject({
  name: z.string().min(1).max(100),
  /** `publishable`: for a page to name in data-cellgate-key; needs origins, may only run cells and use sessions. */
  kind: z.enum(['secret', 'publishable']).default('secret'),
  scopes: z.array(z.enum(SCOPES)).max(SCOPES.length).optional(),
  resource: resourceSchema.nullable().optional(),
  origins: z.array(originSchema).min(1).max(50).nullable().optional(),
  notBefore: time.nullable().optional(),
  expiresAt: time.nullable().optional(),
  caps: capsSchema.optional(),
})
export type KeyRequest = z.input<typeof keyRequestSchema>

const accountName = z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only')
const password = z.string().min(12, 'must be at least 12 characters').max(1024)

/** `POST /api/v1/accounts` (admin). */
export const accountRequestSchema = z.strictObject({
  name: accountName,
  role: z.enum(['admin', 'user']).default('user'),
  password: password.optional(),
})
export type AccountRequest = z.input<typeof accountRequestSchema>

/** `POST /api/v1/login`. */
export const loginRequestSchema = z.strictObject({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
})
export type LoginRequest = z.input<typeof loginRequestSchema>
