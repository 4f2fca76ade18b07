/**
 * What a job is, as every process sees it: its status, its outputs, its
 * result, its error and its usage. The schemas here validate the same shapes
 * where they cross a trust boundary (see messages.ts).
 */
import { z } from 'zod'
import { DEFAULT_LIMITS, MAX_CODE_BYTES, MAX_LIMITS, MIN_MEMORY_MB, MIN_TIME_MS } from './limits.ts'

export const JOB_STATUSES = ['queued', 'running', 'done', 'error', 'timeout', 'cancelled', 'lost'] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

export const TERMINAL_STATUSES = ['done', 'error', 'timeout', 'cancelled', 'lost'] as const
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number]

/** Statuses a sandbox may report a job ended with; `lost` is only ever decided by the dispatcher. */
export const SANDBOX_END_STATUSES = ['done', 'error', 'timeout', 'cancelled'] as const

export function isTerminal(status: JobStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status)
}

/** Ids are 16 url-safe characters from 96 random bits. */
export const jobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/)

/** Largest single output chunk a sandbox may send; longer console output is split. */
export const MAX_OUTPUT_CHUNK = 256 * 1024

export const outputStreamSchema = z.enum(['stdout', 'stderr', 'display'])
export type OutputStream = z.infer<typeof outputStreamSchema>

/** One output as a sandbox produces it, before the dispatcher numbers it. */
export const outputBodySchema = z.object({
  stream: outputStreamSchema,
  mime: z.string().min(1).max(100),
  data: z.string().max(MAX_OUTPUT_CHUNK),
})
export type OutputBody = z.infer<typeof outputBodySchema>

/** One output as it is stored and streamed: numbered 1, 2, 3… per job. */
export const outputSchema = outputBodySchema.extend({ seq: z.number().int().positive() })
export type Output = z.infer<typeof outputSchema>

export const usageSchema = z.object({
  cpuMs: z.number().nonnegative(),
  wallMs: z.number().nonnegative(),
  heapBytes: z.number().int().nonnegative(),
  outputBytes: z.number().int().nonnegative(),
})
export type Usage = z.infer<typeof usageSchema>

export const cellErrorSchema = z.object({
  name: z.string().max(200),
  message: z.string().max(64 * 1024),
  stack: z.string().max(64 * 1024).optional(),
})
export type CellError = z.infer<typeof cellErrorSchema>

/** The value of the cell's last expression, as a REPL shows it, and as JSON where it has one. */
export const cellResultSchema = z.object({
  text: z.string().max(1024 * 1024),
  json: z.unknown().optional(),
})
export type CellResult = z.infer<typeof cellResultSchema>

export const limitsSchema = z.object({
  wallMs: z.number().int().min(MIN_TIME_MS).max(MAX_LIMITS.wallMs),
  cpuMs: z.number().int().min(MIN_TIME_MS).max(MAX_LIMITS.cpuMs),
  memoryMb: z.number().int().min(MIN_MEMORY_MB).max(MAX_LIMITS.memoryMb),
  outputBytes: z.number().int().min(0).max(MAX_LIMITS.outputBytes),
  // A job stored before this limit existed has none: it gets the default.
  outputs: z.number().int().min(0).max(MAX_LIMITS.outputs).default(DEFAULT_LIMITS.outputs),
})

/** Session ids look like job ids: 16 url-safe characters from 96 random bits. */
export const sessionIdSchema = jobIdSchema

/**
 * The session a job runs in, and which of its cells it is (1, 2, 3…). A
 * dispatcher that does not hold the session's context gets a cell after the
 * first only when that context is gone (it restarted, or the session ended):
 * it then ends the cell `lost` instead of running it in an empty context.
 */
export const jobSessionSchema = z.object({
  id: sessionIdSchema,
  cell: z.number().int().positive(),
})
export type JobSession = z.infer<typeof jobSessionSchema>

/**
 * The fair-share key of a job from a server that predates it (a rolling
 * upgrade): all such jobs share one turn. No real key looks like it: account
 * ids are url-safe characters and anonymous keys start `anonymous:`.
 */
export const SHARED_ACCOUNT = ':shared'

/** Room for `anonymous:` and the longest IPv6 address with a zone, with margin. */
export const MAX_ACCOUNT_LENGTH = 200

/** What the dispatcher and a sandbox need to run a job. */
export const jobSpecSchema = z.object({
  jobId: jobIdSchema,
  code: z.string().max(MAX_CODE_BYTES),
  limits: limitsSchema,
  /** Higher runs first; within a priority, accounts take turns (worker/fair-queue.ts). */
  priority: z.number().int().min(0).max(9),
  /**
   * Whose turn the job runs in: the account id for a caller with a key,
   * `anonymous:<client address>` for an anonymous one (server/principals/principal.ts shareOf).
   */
  account: z.string().min(1).max(MAX_ACCOUNT_LENGTH).default(SHARED_ACCOUNT),
  /** Absent for a one-off cell, which runs in a fresh context. */
  session: jobSessionSchema.optional(),
})
export type JobSpec = z.infer<typeof jobSpecSchema>

/**
 * A job as a sandbox gets it: without its account, which is the
 * dispatcher's business only (DESIGN.md "Principals"): an anonymous
 * caller's address must not reach an untrusted process.
 */
export const runJobSchema = jobSpecSchema.omit({ account: true })
export type RunJob = z.infer<typeof runJobSchema>

/** @example runJobOf(spec) // the spec minus `account`, for a `run` message */
export function runJobOf(spec: JobSpec): RunJob {
  const { account: _account, ...job } = spec
  return job
}

/** How a job ended, as the dispatcher reports it to the server. */
export const jobEndSchema = z.object({
  status: z.enum(TERMINAL_STATUSES),
  result: cellResultSchema.optional(),
  error: cellErrorSchema.optional(),
  usage: usageSchema.optional(),
})
export type JobEnd = z.infer<typeof jobEndSchema>
