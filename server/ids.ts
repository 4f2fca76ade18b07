/**
 * The ids the web tier makes, one generator per kind: job ids on the hot
 * path (one per cell, so their random bytes are drawn in bulk), session,
 * notebook, account, key and audit ids now and then. Each is url-safe base64 of random bytes, so it
 * is unguessable and needs no escaping in a path; the shapes a client may
 * send are checked by the protocol's schemas (jobIdSchema, sessionIdSchema,
 * notebookIdSchema).
 */
import { randomBytes, randomFillSync } from 'node:crypto'

/** Random bytes for job ids, drawn in bulk: one randomFillSync per 256 ids instead of one randomBytes each. */
const JOB_ID_BYTES = 12
const jobIdPool = Buffer.alloc(JOB_ID_BYTES * 256)
let jobIdOffset = jobIdPool.length

/**
 * 16 url-safe characters from 96 random bits.
 *
 * @example newJobId() // 'rCV0MA60ftxQQG5d'
 */
export function newJobId(): string {
  if (jobIdOffset === jobIdPool.length) {
    randomFillSync(jobIdPool)
    jobIdOffset = 0
  }
  const id = jobIdPool.toString('base64url', jobIdOffset, jobIdOffset + JOB_ID_BYTES)
  jobIdOffset += JOB_ID_BYTES
  return id
}

/**
 * 16 url-safe characters from 96 random bits: whoever knows a session's id
 * may run cells in it, so it is as hard to guess as a job's.
 *
 * @example newSessionId() // 'k3JqLw0Zr1_tYc9e'
 */
export function newSessionId(): string {
  return randomBytes(12).toString('base64url')
}

/**
 * 12 url-safe characters from 72 random bits: a notebook's id is its
 * permalink, short enough to share, not listed anywhere.
 *
 * @example newNotebookId() // 'Qm3xT0b_kLz2'
 */
export function newNotebookId(): string {
  return randomBytes(9).toString('base64url')
}

/**
 * 16 url-safe characters from 96 random bits, for accounts, keys and audit
 * records: unique without coordination between web instances. A key's id
 * names it in lists and in DELETE, and grants nothing: its secret does.
 *
 * @example newRecordId() // 'Vb0c2yY8Qm_1xTzA'
 */
export function newRecordId(): string {
  return randomBytes(12).toString('base64url')
}
