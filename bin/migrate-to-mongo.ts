/**
 * Copies the embedded SQLite store into MongoDB (jobs, outputs, notebooks,
 * accounts, keys, audit log), for moving an installation to MongoDB. Safe to run again: what is already there is not copied twice.
 * Stop the server first; start it with MONGODB_URI afterwards.
 *
 *   node --import tsx bin/migrate-to-mongo.ts [--data-dir DIR] --uri URI [--db NAME]
 *
 * --data-dir  the server's data directory (default: the configured one, ./data)
 * --uri       the MongoDB connection string (default: MONGODB_URI)
 * --db        the database (default: CELLGATE_MONGODB_DB, else `cellgate`)
 *
 * A tool run by hand: what it prints (the counts, a usage or config error)
 * is its answer to the person running it, so it is plain text, not a log.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/load.ts'
import { MongoStore, DEFAULT_MONGODB_DB } from '../server/store/mongo.ts'
import { copyToMongo } from '../server/store/mongo-import.ts'
import { SQLITE_FILE, SqliteStore } from '../server/store/sqlite.ts'

const USAGE = 'usage: migrate-to-mongo [--data-dir DIR] --uri URI [--db NAME]'

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, uri: { type: 'string' }, db: { type: 'string' } },
  })
  const dataDir = values['data-dir'] ?? loadConfig(process.env).server.dataDir
  const uri = values.uri || process.env.MONGODB_URI
  const dbName = values.db || process.env.CELLGATE_MONGODB_DB || DEFAULT_MONGODB_DB
  if (!uri) throw new UsageError('no MongoDB to copy to: give --uri or set MONGODB_URI')
  // Opening a SQLite store that is not there would create an empty one and "copy" nothing.
  const file = join(dataDir, SQLITE_FILE)
  if (!existsSync(file)) throw new UsageError(`no store at ${file}: give the server's --data-dir`)

  const source = new SqliteStore(dataDir)
  const target = new MongoStore({ uri, dbName })
  try {
    await Promise.all([source.open(), target.open()])
    const counts = await copyToMongo(source, target)
    console.log(`copied ${counts.copiedJobs} of ${counts.jobs} jobs and ${counts.copiedOutputs} of ${counts.outputs} outputs from ${file} to MongoDB database "${dbName}"`)
    const { notebooks, accounts, keys, audit } = counts
    console.log(`copied ${notebooks.copied} of ${notebooks.found} notebooks, ${accounts.copied} of ${accounts.found} accounts, ${keys.copied} of ${keys.found} keys and ${audit.copied} of ${audit.found} audit records`)
    const all = [notebooks, accounts, keys, audit, { found: counts.jobs, copied: counts.copiedJobs }, { found: counts.outputs, copied: counts.copiedOutputs }]
    if (all.some(({ found, copied }) => copied < found)) console.log('the rest were there already (an account whose name the target had is not copied, nor are its keys)')
  } finally {
    await Promise.all([source.close(), target.close()])
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(err as Error).message}\n${USAGE}`)
    process.exit(2)
  }
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(1)
})
