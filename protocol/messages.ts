/**
 * The ZeroMQ message protocol, one discriminated union per direction of each
 * link. Every message is one JSON frame; a ZeroMQ multipart message carries
 * a batch of them. Receivers validate with the schemas below (see codec.ts).
 *
 *   server  --DEALER--> ROUTER  dispatcher  ROUTER <--DEALER--  sandbox
 *           ServerMessage ->                  <- SandboxMessage
 *           <- DispatcherMessage              DispatcherToSandbox ->
 */
import { z } from 'zod'
import { SANDBOX_END_STATUSES, cellErrorSchema, cellResultSchema, jobEndSchema, jobIdSchema, jobSpecSchema, outputBodySchema, outputSchema, runJobSchema, sessionIdSchema, usageSchema } from './job.ts'

const idSchema = z.string().min(1).max(128)
/** Why a session ended, as its client reads it. */
const endReasonSchema = z.string().min(1).max(1000)

// ---- server -> dispatcher -------------------------------------------------

export const serverMessageSchema = z.discriminatedUnion('type', [
  /** Sent on connect and every few seconds; a new bootId means the server restarted. */
  z.object({ type: z.literal('hello'), serverId: idSchema, bootId: idSchema }),
  /** Queue a job; a jobId the dispatcher already holds is ignored. */
  z.object({ type: z.literal('submit'), job: jobSpecSchema }),
  z.object({ type: z.literal('cancel'), jobId: jobIdSchema }),
  /** The server has stored every message of these jobs up to and including msgSeq `upTo`. */
  z.object({ type: z.literal('ack'), acks: z.array(z.object({ jobId: jobIdSchema, upTo: z.number().int().nonnegative() })).max(10_000) }),
  /** Asks for the hosts and sandboxes (GET /api/v1/workers); answered by a `workersReport` with the same requestId. */
  z.object({ type: z.literal('workersRequest'), requestId: idSchema }),
  /** The session ended (deleted, idle, too old): its queued cells end `cancelled`, its running cell is cancelled, its sandbox drops the context. */
  z.object({ type: z.literal('endSession'), session: sessionIdSchema }),
  /**
   * Sessions active in the store whose cells have all ended (sent after a dispatcher boot the server
   * had not seen): the dispatcher answers `sessionEnded` for each one no sandbox of it holds, so they
   * stop counting against the client's limit.
   */
  z.object({ type: z.literal('checkSessions'), sessions: z.array(sessionIdSchema).max(10_000) }),
])
export type ServerMessage = z.infer<typeof serverMessageSchema>

// ---- dispatcher -> server -------------------------------------------------

const poolStateSchema = z.object({
  sandboxes: z.number().int().nonnegative(),
  connected: z.number().int().nonnegative(),
  ready: z.number().int().nonnegative(),
  freeSlots: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
})
export type PoolState = z.infer<typeof poolStateSchema>

const count = z.number().int().nonnegative()
const lastErrorSchema = z.string().max(2000).nullable()

/** A host sandboxes run on ("local" for the local launcher). up: it can take sandboxes now. */
const workerHostSchema = z.object({
  host: z.string().min(1).max(300),
  state: z.enum(['up', 'down']),
  /** Its sandbox processes (starting or serving). */
  sandboxes: count,
  /** Load: jobs running on it, out of its sandboxes' slots. */
  running: count,
  slots: count,
  lastError: lastErrorSchema,
})
export type WorkerHost = z.infer<typeof workerHostSchema>

/** starting: launched, not connected yet; ready: has a free slot; busy: all slots taken; retiring: being killed. */
const workerSandboxSchema = z.object({
  id: idSchema,
  host: z.string().min(1).max(300),
  state: z.enum(['starting', 'ready', 'busy', 'retiring']),
  pid: z.number().int().positive().optional(),
  slots: count,
  running: count,
  jobsRun: count,
  lastError: lastErrorSchema,
})
export type WorkerSandbox = z.infer<typeof workerSandboxSchema>

/** What GET /api/v1/workers shows: the body of a `workersReport`. */
export interface WorkersReport {
  hosts: WorkerHost[]
  sandboxes: WorkerSandbox[]
}

/**
 * Messages about one job carry msgSeq, numbered 1, 2, 3… per job by the
 * dispatcher, which keeps each message until the server acks it and sends
 * what is unacked again when the server reconnects.
 */
export const dispatcherMessageSchema = z.discriminatedUnion('type', [
  /** Answer to hello. bootId changes when the dispatcher restarts. */
  z.object({ type: z.literal('welcome'), bootId: idSchema, pool: poolStateSchema }),
  z.object({ type: z.literal('started'), jobId: jobIdSchema, msgSeq: z.number().int().positive(), bootId: idSchema, sandboxId: idSchema }),
  z.object({ type: z.literal('output'), jobId: jobIdSchema, msgSeq: z.number().int().positive(), output: outputSchema }),
  z.object({ type: z.literal('end'), jobId: jobIdSchema, msgSeq: z.number().int().positive(), end: jobEndSchema }),
  /** Answer to a `workersRequest`: a snapshot, not about any job, so no msgSeq and never retained or replayed. */
  z.object({ type: z.literal('workersReport'), requestId: idSchema, hosts: z.array(workerHostSchema).max(10_000), sandboxes: z.array(workerSandboxSchema).max(100_000) }),
  /**
   * A session's context is gone without the server asking (its sandbox died, or a cell stopped
   * while running took the context with it). Not retained: should the server miss it, the next
   * cell sent to the session ends `lost` with the same reason, and the server learns it then.
   */
  z.object({ type: z.literal('sessionEnded'), session: sessionIdSchema, reason: endReasonSchema }),
])
export type DispatcherMessage = z.infer<typeof dispatcherMessageSchema>

// ---- dispatcher -> sandbox ------------------------------------------------

export const toSandboxMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), job: runJobSchema }),
  z.object({ type: z.literal('cancel'), jobId: jobIdSchema }),
  /** Drop the session's context (cancelling its running cell, if any). */
  z.object({ type: z.literal('endSession'), session: sessionIdSchema }),
])
export type ToSandboxMessage = z.infer<typeof toSandboxMessageSchema>

// ---- sandbox -> dispatcher (untrusted) ------------------------------------

export const sandboxMessageSchema = z.discriminatedUnion('type', [
  /** The sandbox has room for `credits` more jobs (sent on connect and as jobs end). */
  z.object({ type: z.literal('credit'), credits: z.number().int().positive().max(64) }),
  z.object({ type: z.literal('started'), jobId: jobIdSchema }),
  z.object({ type: z.literal('output'), jobId: jobIdSchema, output: outputBodySchema }),
  z.object({
    type: z.literal('end'),
    jobId: jobIdSchema,
    status: z.enum(SANDBOX_END_STATUSES),
    result: cellResultSchema.optional(),
    error: cellErrorSchema.optional(),
    usage: usageSchema,
  }),
  /** The session's context is gone (a cell ran out of memory or was cancelled while running); sent just before that cell's end. */
  z.object({ type: z.literal('sessionEnded'), session: sessionIdSchema, reason: endReasonSchema }),
])
export type SandboxMessage = z.infer<typeof sandboxMessageSchema>

/** The member of a message union with the given `type`, e.g. `MessageOf<SandboxMessage, 'end'>`. */
export type MessageOf<U extends { type: string }, T extends U['type']> = Extract<U, { type: T }>
