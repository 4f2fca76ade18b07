/**
 * `npm run bench:fair`: what one account's flood costs another account's
 * cells. Account B runs trivial cells at c=1 (submit and wait), once alone
 * and once while account A floods at c=64 (half of its cells waiting on a
 * 300 ms timer, half computing for 300 ms), alternating, in one run against
 * one cluster (the default pool). Prints B's p50 and p99 of each, the ratio
 * of the p99s (target: at most 3×), A's rate, and from the stored times how
 * long B's cells waited for a slot beside the flood and how many of A's
 * cells started while one of B's waited (fair: at most one per slot plus
 * one; a FIFO queue would put the whole backlog first).
 *
 *   account A  autocannon c=32 sleeping + c=32 computing ──┐
 *                                                          ├─> server ─> dispatcher: A ⇄ B ─> sandboxes
 *   account B  autocannon c=1  1+1 ─────────────────────────┘
 *
 * BENCH_SECONDS   duration of each run (default 10)
 * BENCH_ROUNDS    alone/beside pairs (default 2)
 * BENCH_URL       measure that cellgate instead (then BENCH_ADMIN_KEY is its admin key)
 */
import { ADMIN_KEY } from '../test/support/principals.ts'
import { startTarget, type BenchTarget } from './bench-target.ts'
import { runCannon } from './cannon.ts'
import { COMPUTING_CELL, createAccountKey, SLEEPING_CELL } from './flood-cells.ts'
import { summarize } from './latency-stats.ts'
import { formatResult, type ScenarioResult } from './scenario-result.ts'
import { TRIVIAL_CODE } from './trivial-cell.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const adminKey = process.env.BENCH_ADMIN_KEY ?? ADMIN_KEY
/** A's cells in flight: half of each kind. */
const FLOOD_CONNECTIONS = 64
const P99_TARGET = 3

interface Round {
  alone: ScenarioResult
  beside: ScenarioResult
  flood: ScenarioResult[]
  /** B's cells of the `beside` run, as stored. */
  waits: Wait[]
}

interface Wait {
  /** From submit to start. */
  ms: number
  /** A's cells that started meanwhile (before it, at ms resolution). */
  passedBy: number
}

async function main(): Promise<void> {
  const target = await startTarget(process.env.BENCH_URL)
  try {
    const stamp = Date.now().toString(36)
    const keyA = await createAccountKey(target.url, adminKey, `bench-flooder-${stamp}`)
    const keyB = await createAccountKey(target.url, adminKey, `bench-reader-${stamp}`)
    console.log(`fairness: account B 1+1 at c=1, alone and beside account A at c=${FLOOD_CONNECTIONS} (half sleeping, half computing); ${seconds} s per run, ${rounds} round(s)`)
    await cells(target.url, keyB, 'warm-up', TRIVIAL_CODE, 1, 2)
    const results: Round[] = []
    for (let i = 0; i < rounds; i++) {
      const alone = await cells(target.url, keyB, 'B alone', TRIVIAL_CODE, 1, seconds)
      console.log(formatResult(alone))
      const since = Date.now()
      const [beside, ...flood] = await Promise.all([
        cells(target.url, keyB, 'B beside A', TRIVIAL_CODE, 1, seconds),
        cells(target.url, keyA, 'A sleeping', SLEEPING_CELL, FLOOD_CONNECTIONS / 2, seconds),
        cells(target.url, keyA, 'A computing', COMPUTING_CELL, FLOOD_CONNECTIONS / 2, seconds),
      ])
      for (const r of [beside, ...flood]) console.log(formatResult(r))
      results.push({ alone, beside, flood, waits: await waitsOf(target, since) })
    }
    report(results)
  } finally {
    await target.close()
  }
}

/** `code` as the account with `key`, submitted and waited for at c=`connections`. */
function cells(url: string, key: string, scenario: string, code: string, connections: number, durationSeconds: number): Promise<ScenarioResult> {
  return runCannon(scenario, {
    url: `${url}/api/v1/cells?wait=true`,
    method: 'POST',
    headers: { 'content-type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify({ code }),
  }, connections, durationSeconds)
}

/** How B's trivial cells since `since` waited, from the cluster's store (none for BENCH_URL). */
async function waitsOf(target: BenchTarget, since: number): Promise<Wait[]> {
  if (!target.store) return []
  const jobs = (await target.store.findJobsByStatus(['done'])).filter((job) => job.createdAt >= since && job.startedAt !== null)
  const floodStarts = jobs.filter((job) => job.code !== TRIVIAL_CODE).map((job) => job.startedAt!)
  return jobs.filter((job) => job.code === TRIVIAL_CODE).map((job) => ({
    ms: job.startedAt! - job.createdAt,
    // Strictly before its start: cells started in the same millisecond came in the same batch, in either order.
    passedBy: floodStarts.filter((at) => at >= job.createdAt && at < job.startedAt!).length,
  }))
}

function report(results: readonly Round[]): void {
  // Each round's ratio on its own: the alone and beside runs of one round are next to each other in time, so they share the machine's noise.
  const ratios = results.map((r, i) => {
    const ratio = r.beside.p99Ms / r.alone.p99Ms
    console.log(`round ${i + 1}: B alone p50 ${r.alone.p50Ms.toFixed(1)} ms, p99 ${r.alone.p99Ms.toFixed(1)} ms; beside A p50 ${r.beside.p50Ms.toFixed(1)} ms, p99 ${r.beside.p99Ms.toFixed(1)} ms; p99 ${ratio.toFixed(1)}×, p50 ${(r.beside.p50Ms / r.alone.p50Ms).toFixed(1)}×`)
    return ratio
  })
  const worst = Math.max(...ratios)
  console.log(`p99 beside / alone, worst round: ${worst.toFixed(1)}× (target ≤ ${P99_TARGET}×: ${worst <= P99_TARGET ? 'met' : 'not met'})`)
  const flood = results.flatMap((r) => r.flood)
  console.log(`A's flood: ${(flood.reduce((sum, r) => sum + r.cellsPerSecond, 0) / results.length).toFixed(0)} cells/s, errors ${flood.reduce((sum, r) => sum + r.errors + r.non2xx, 0)}; B's errors ${results.reduce((sum, r) => sum + r.alone.errors + r.alone.non2xx + r.beside.errors + r.beside.non2xx, 0)}`)
  const waits = results.flatMap((r) => r.waits)
  if (waits.length === 0) return
  const ms = summarize(waits.map((w) => w.ms))
  console.log(`B's cells beside A, submit to start (stored, ms resolution): p50 ${ms.p50Ms} ms, p99 ${ms.p99Ms} ms, max ${ms.maxMs} ms over ${ms.count} cells`)
  const passedBy = summarize(waits.map((w) => w.passedBy))
  console.log(`A's cells started while one of B's waited: p50 ${passedBy.p50Ms}, max ${passedBy.maxMs} (A had ${FLOOD_CONNECTIONS} in flight)`)
}

await main()
