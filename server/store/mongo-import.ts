/**
 * Copies one store into a MongoDB store, for moving an installation from
 * the embedded SQLite store to MongoDB (bin/migrate-to-mongo.ts): every job
 * and output, notebook, account, key and audit record. Sessions are not
 * copied: they live in the sandboxes of the system being stopped. Reads the
 * source only through the Store port, page by page; writes only what the
 * target does not have yet (jobs through MongoStore.importJobs), so a copy
 * that was interrupted or is run again copies nothing twice and never
 * overwrites what the target has.
 *
 * Run it while no server uses the source: a job that moves during the copy
 * is copied as it was when read. Run it before any server has used the
 * target: an account whose name the target already has (its own first
 * start's `admin`) is not copied, nor are its keys, and the counts say so.
 */
import { MongoServerError } from 'mongodb'
import { JOB_STATUSES } from '../../protocol/index.ts'
import type { ImportedJob, MongoStore } from './mongo.ts'
import type { AuditCursor, Store } from './port.ts'

/** Records found in the source, and how many of them were not in the target yet and were copied now. */
export interface Copied {
  found: number
  copied: number
}

export interface ImportCounts {
  /** Jobs and outputs found in the source. */
  jobs: number
  outputs: number
  /** Of those, how many were not in the target yet and were copied now. */
  copiedJobs: number
  copiedOutputs: number
  notebooks: Copied
  accounts: Copied
  keys: Copied
  audit: Copied
}

/** Records of the other kinds read from the source at a time. */
const PAGE = 500
const DUPLICATE_KEY = 11000

/** A chunk is written once it holds this many jobs or this much output data, whichever comes first. */
const CHUNK_JOBS = 200
const CHUNK_BYTES = 8 * 1024 * 1024

/**
 * @example
 *   await copyToMongo(new SqliteStore('./data'), new MongoStore({ uri })) // { jobs: 12, outputs: 340, copiedJobs: 12, copiedOutputs: 340 }
 */
export async function copyToMongo(source: Store, target: MongoStore): Promise<ImportCounts> {
  const counts: ImportCounts = {
    jobs: 0, outputs: 0, copiedJobs: 0, copiedOutputs: 0,
    notebooks: none(), accounts: none(), keys: none(), audit: none(),
  }
  let chunk: ImportedJob[] = []
  let chunkBytes = 0
  const flush = async () => {
    const copied = await target.importJobs(chunk)
    counts.copiedJobs += copied.jobs
    counts.copiedOutputs += copied.outputs
    chunk = []
    chunkBytes = 0
  }
  // One status at a time: the port has no paging, and this keeps one status's jobs in memory, not the whole store.
  for (const status of JOB_STATUSES) {
    for (const job of await source.findJobsByStatus([status])) {
      const outputs = await source.getOutputs(job.id)
      counts.jobs += 1
      counts.outputs += outputs.length
      chunk.push({ job, outputs })
      chunkBytes += job.code.length + outputs.reduce((sum, o) => sum + o.data.length, 0)
      if (chunk.length >= CHUNK_JOBS || chunkBytes >= CHUNK_BYTES) await flush()
    }
  }
  if (chunk.length > 0) await flush()
  await copyNotebooks(source, target, counts.notebooks)
  await copyPrincipals(source, target, counts)
  return counts
}

async function copyNotebooks(source: Store, target: Store, counts: Copied): Promise<void> {
  for (let page = await source.listNotebooks(PAGE); page.length > 0; page = await source.listNotebooks(PAGE, page.at(-1)!.id)) {
    for (const notebook of page) {
      counts.found++
      if ((await target.getNotebook(notebook.id)) !== null) continue
      await target.saveNotebook(notebook)
      counts.copied++
    }
  }
}

/** Accounts, then each copied account's keys (parents before children), then the audit log. */
async function copyPrincipals(source: Store, target: Store, counts: ImportCounts): Promise<void> {
  for (let page = await source.listAccounts(PAGE); page.length > 0; page = await source.listAccounts(PAGE, page.at(-1)!.id)) {
    for (const account of page) {
      counts.accounts.found++
      if ((await target.getAccount(account.id)) === null && (await target.insertAccount(account))) counts.accounts.copied++
      const keys = await source.listAccountKeys(account.id)
      counts.keys.found += keys.length
      // Its keys go only where the account itself is (copied now or before), never under another account of its name.
      if ((await target.getAccount(account.id)) === null) continue
      for (const key of keys) {
        if ((await target.getKey(key.id)) !== null) continue
        await target.insertKey(key)
        counts.keys.copied++
      }
    }
  }
  let before: AuditCursor | undefined
  for (;;) {
    const page = await source.listAudit({ limit: PAGE, ...(before && { before }) })
    for (const record of page) {
      counts.audit.found++
      if (await insertedNew(() => target.appendAudit(record))) counts.audit.copied++
    }
    if (page.length < PAGE) break
    before = { at: page.at(-1)!.at, id: page.at(-1)!.id }
  }
}

/** Runs an insert; false when the target had the record already (its id is taken). */
async function insertedNew(insert: () => Promise<void>): Promise<boolean> {
  try {
    await insert()
    return true
  } catch (err) {
    if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return false
    throw err
  }
}

function none(): Copied {
  return { found: 0, copied: 0 }
}
