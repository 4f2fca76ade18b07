/**
 * `npm run bench:replay`: what replaying a long job costs everyone else.
 * Stores a finished job of BENCH_OUTPUTS (150,000) small outputs, as one
 * stored before outputs per cell were bounded, then BENCH_READERS (3)
 * clients, each in a process of its own, read its event stream from the
 * start while this process asks GET /api/v1/health one request after
 * another; prints /health's latency while the replays ran (p50, p99, max,
 * answers) beside the same without replays, and the replay's time.
 * BENCH_PAGE_SIZE sets the server's streamPageSize.
 *
 * The web tier runs in this process over SQLite, with no dispatcher (none
 * is needed to replay a stored job): its event loop is the one /health
 * waits on, as on a real server.
 */
import { Registry } from 'prom-client'
import { silentLogger } from '../telemetry/logger.ts'
import { startServer } from '../server/main.ts'
import { testConfig } from '../test/support/config.ts'
import { startReplayReader, storeLongJob } from '../test/support/long-job.ts'
import { RecordingLink } from '../test/support/server.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { summarize, type LatencySummary } from './latency-stats.ts'

const outputs = Number(process.env.BENCH_OUTPUTS ?? 150_000)
const readers = Number(process.env.BENCH_READERS ?? 3)
const QUIET_REQUESTS = 200
// Unset: the server's default (config.server.streamPageSize).
const pageSize = process.env.BENCH_PAGE_SIZE ? { streamPageSize: Number(process.env.BENCH_PAGE_SIZE) } : {}

/** Asks /health one request after another until `until` says stop; each answer's latency. */
async function askHealth(url: string, until: () => boolean): Promise<number[]> {
  const latencies: number[] = []
  while (!until()) {
    const start = performance.now()
    await (await fetch(`${url}/api/v1/health`)).text()
    latencies.push(performance.now() - start)
  }
  return latencies
}

function format(label: string, s: LatencySummary): string {
  return `${label}: /health p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms (${s.count} answers)`
}

const tmp = tempDir('cellgate-bench-replay-')
const server = await startServer(testConfig({ server: { dataDir: tmp.dir, ...pageSize } }), { link: new RecordingLink(), logger: silentLogger(), registry: new Registry() })
try {
  const events = await storeLongJob(server.url, server.store, outputs)
  let asked = 0
  const quiet = summarize(await askHealth(server.url, () => asked++ >= QUIET_REQUESTS))
  console.log(format('quiet', quiet))

  const started = performance.now()
  const clients = Array.from({ length: readers }, () => startReplayReader(events))
  let ended = 0
  const ends = Promise.all(clients.map((c) => c.ended.finally(() => ended++)))
  const during = summarize(await askHealth(server.url, () => ended > 0))
  const lines = await ends
  const seconds = Math.round(performance.now() - started) / 1000
  console.log(format(`${readers} replays of ${outputs} outputs`, during))
  console.log(`replays took ${seconds} s: ${lines.join('; ')}`)
} finally {
  await server.close()
  tmp.remove()
}
