/**
 * `npm run bench`: the trivial-cell scenario at concurrency 1 and 32 against
 * a cellgate it starts itself (or the one at BENCH_URL), and in the same run
 * the raw isolated-vm fresh-context rate, with the ratio between them.
 *
 * BENCH_URL       benchmark this running cellgate instead of starting one
 * BENCH_SECONDS   duration of each autocannon run (default 10)
 */
import { startTestCluster } from '../test/support/test-cluster.ts'
import { measureRawIsolate } from './raw-isolate.ts'
import { formatResult, runTrivialCell, type ScenarioResult } from './trivial-cell.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)

async function main(): Promise<void> {
  // The pool as `npm start` runs it: the configured defaults.
  const own = process.env.BENCH_URL ? undefined : await startTestCluster({ CELLGATE_POOL_SIZE: '', CELLGATE_SANDBOX_SLOTS: '' })
  const url = process.env.BENCH_URL ?? own!.url
  try {
    console.log(`cellgate at ${url}; ${seconds} s per run`)
    await runTrivialCell(url, 8, 2) // warm-up: JIT, isolates, SQLite pages
    const results: ScenarioResult[] = []
    for (const connections of [1, 32]) {
      const r = await runTrivialCell(url, connections, seconds)
      results.push(r)
      console.log(formatResult(r))
    }
    const raw = await measureRawIsolate(3_000)
    console.log(`raw isolated-vm fresh-context eval (one process): ${raw.evalsPerSecond.toFixed(0)} evals/s, ${raw.meanMs.toFixed(3)} ms each`)
    const best = Math.max(...results.map((r) => r.cellsPerSecond))
    console.log(`cellgate trivial cells vs raw isolated-vm: ${((best / raw.evalsPerSecond) * 100).toFixed(1)}%`)
  } finally {
    await own?.close()
  }
}

await main()
