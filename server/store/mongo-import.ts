/**
 * Copies every job and output of one store into a MongoDB store, for moving
 * an installation from the embedded SQLite store to MongoDB
 * (bin/migrate-to-mongo.ts). Reads the source only through the Store port;
 * writes through MongoStore.importJobs, which skips what is already there,
 * so a copy that was interrupted or is run again copies nothing twice.
 *
 * Run it while no server uses the source: a job that moves during the copy
 * is copied as it was when read.
 */
import { JOB_STATUSES } from '../../protocol/index.ts'
import type { ImportedJob, MongoStore } from './mongo.ts'
import type { Store } from './port.ts'

export interface ImportCounts {
  /** Jobs and outputs found in the source. */
  jobs: number
  outputs: number
  /** Of those, how many were not in the target yet and were copied now. */
  copiedJobs: number
  copiedOutputs: number
}

/** A chunk is written once it holds this many jobs or this much output data, whichever comes first. */
const CHUNK_JOBS = 200
const CHUNK_BYTES = 8 * 1024 * 1024

/**
 * @example
 *   await copyToMongo(new SqliteStore('./data'), new MongoStore({ uri })) // { jobs: 12, outputs: 340, copiedJobs: 12, copiedOutputs: 340 }
 */
export async function copyToMongo(source: Store, target: MongoStore): Promise<ImportCounts> {
  const counts: ImportCounts = { jobs: 0, outputs: 0, copiedJobs: 0, copiedOutputs: 0 }
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
  return counts
}
