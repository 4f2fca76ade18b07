/**
 * `npm run bench:stores`: the trivial-cell scenario with the MongoDB store
 * (a FerretDB started here, or the MongoDB at MONGODB_URI) beside the
 * embedded SQLite store, in one run, with the ratio.
 *
 * BENCH_SECONDS   duration of each autocannon run (default 10)
 */
import { mongoMissing, startTestMongo } from '../test/support/ferretdb.ts'
import { startTestCluster } from '../test/support/test-cluster.ts'
import { formatResult, type ScenarioResult } from './scenario-result.ts'
import { runTrivialCell } from './trivial-cell.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)

async function measure(label: string, env: Record<string, string>): Promise<ScenarioResult[]> {
  // The pool as `npm start` runs it: the configured defaults.
  const cluster = await startTestCluster({ CELLGATE_POOL_SIZE: '', CELLGATE_SANDBOX_SLOTS: '', ...env })
  try {
    await runTrivialCell(cluster.url, 8, 2) // warm-up
    const results: ScenarioResult[] = []
    for (const connections of [1, 32]) {
      const r = await runTrivialCell(cluster.url, connections, seconds)
      console.log(`[${label}] ${formatResult(r)}`)
      results.push(r)
    }
    return results
  } finally {
    await cluster.close()
  }
}

if (mongoMissing) {
  console.log(`bench:stores skipped: ${mongoMissing}`)
} else {
  const mongo = await startTestMongo()
  try {
    const sqlite = await measure('sqlite', {})
    const mongodb = await measure(mongo.kind === 'ferretdb' ? 'mongodb (FerretDB)' : 'mongodb', { MONGODB_URI: mongo.uri, CELLGATE_MONGODB_DB: mongo.newDbName() })
    sqlite.forEach((s, i) => {
      const m = mongodb[i]!
      console.log(`c=${s.connections}: mongodb/sqlite throughput ${(m.cellsPerSecond / s.cellsPerSecond).toFixed(2)}, p50 ${m.p50Ms} vs ${s.p50Ms} ms`)
    })
  } finally {
    await mongo.close()
  }
}
