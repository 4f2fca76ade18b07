/**
 * What HTTP clients send: the bodies of the API's requests, and the shapes
 * of the ids in its paths. The web tier validates every body with these
 * schemas where it enters (server/request-body.ts); the web client takes
 * its request types from them, so the two cannot drift apart. Unknown
 * fields are refused, so a misspelt `timeoutMS` is an error rather than a
 * silently ignored wish.
 */
import { z } from 'zod'
import { cellErrorSchema, cellResultSchema, outputSchema, sessionIdSchema } from './job.ts'
import { MAX_CODE_BYTES, MAX_LIMITS, MIN_MEMORY_MB, MIN_TIME_MS } from './limits.ts'

/** Every route of the API is under this path. */
export const API_BASE = '/api/v1'

/** `POST /api/v1/cells`. Limits a client may ask for are bounded by the hard maxima; the code's byte size is checked by the server. */
export const cellRequestSchema = z.strictObject({
  code: z.string().min(1, 'must not be empty'),
  /** The cell's wall time limit (limits.wallMs). */
  timeoutMs: z.number().int().min(MIN_TIME_MS).max(MAX_LIMITS.wallMs).optional(),
  memoryMb: z.number().int().min(MIN_MEMORY_MB).max(MAX_LIMITS.memoryMb).optional(),
  /** Outputs the cell may make before it is stopped (limits.outputs). */
  outputs: z.number().int().min(0).max(MAX_LIMITS.outputs).optional(),
  /** Run in this session's context (POST /api/v1/sessions made it). */
  session: sessionIdSchema.optional(),
  /** Only the keys of the account that runs it may read it; otherwise anyone with its link may. Needs a key. */
  private: z.boolean().optional(),
})
export type CellRequest = z.infer<typeof cellRequestSchema>

/** `POST /api/v1/sessions` (the body is optional). */
export const sessionRequestSchema = z.strictObject({
  /** The memory limit of the session's context; every cell of the session runs with it. */
  memoryMb: z.number().int().min(MIN_MEMORY_MB).max(MAX_LIMITS.memoryMb).optional(),
})
export type SessionRequest = z.infer<typeof sessionRequestSchema>

/** Notebook ids are 12 url-safe characters from 72 random bits. */
export const notebookIdSchema = z.string().regex(/^[A-Za-z0-9_-]{12}$/)

/** Cells one notebook may have. */
export const MAX_NOTEBOOK_CELLS = 200
/** Outputs kept per cell; the page keeps the first ones of a longer run (the 1 MB body limit bounds the rest). */
export const MAX_SAVED_OUTPUTS = 500

/** One cell of a saved notebook: its code and, when it was run before saving, what that run showed. */
export const notebookCellSchema = z.strictObject({
  // Characters, not bytes: a cell's byte limit is checked when it runs, as for any cell.
  code: z.string().max(MAX_CODE_BYTES),
  outputs: z.array(outputSchema).max(MAX_SAVED_OUTPUTS).optional(),
  result: cellResultSchema.nullable().optional(),
  error: cellErrorSchema.nullable().optional(),
})
export type NotebookCell = z.infer<typeof notebookCellSchema>

/** `POST /api/v1/notebooks` and `PUT /api/v1/notebooks/:id`. */
export const notebookRequestSchema = z.strictObject({
  title: z.string().max(200).default(''),
  cells: z.array(notebookCellSchema).max(MAX_NOTEBOOK_CELLS),
})
/** As a client sends it (title may be left out). */
export type NotebookRequest = z.input<typeof notebookRequestSchema>
