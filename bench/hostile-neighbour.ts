/**
 * `npm run bench:hostile`: what a hostile client costs everyone else.
 * Ordinary trivial cells at c=8 (autocannon, submit and wait), once quiet
 * and once while another client runs memory bombs, host-call floods and
 * output floods in a loop, alternating, in one run against one cluster.
 * Prints the ordinary cells' throughput and p99 of each, the hostile/quiet
 * throughput ratio (target: at least 80%), how the hostile cells ended, and
 * how many sandbox processes died (target: none).
 *
 *   autocannon c=8 ─── 1+1 ──────────────┐
 *                                         ├─> server ─> dispatcher ─> sandboxes
 *   127.0.0.2 loops ─ bombs and floods ──┘
 *
 * BENCH_SECONDS   duration of each run (default 10)
 * BENCH_ROUNDS    quiet/hostile pairs (default 2)
 * BENCH_HOSTILE_C hostile cells in flight at once (default 1)
 * BENCH_QUICK=1   2 s runs, one round
 */
import { requestFrom } from '../test/support/client-address.ts'
import { HOSTILE_CELLS } from './hostile-cells.ts'
import { startTarget, type BenchTarget } from './bench-target.ts'
import { runLoops } from './loop-driver.ts'
import { formatResult, type ScenarioResult } from './scenario-result.ts'
import { runTrivialCell } from './trivial-cell.ts'

const quick = process.env.BENCH_QUICK === '1'
const seconds = quick ? 2 : Number(process.env.BENCH_SECONDS ?? 10)
const rounds = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 2)
const ORDINARY_CONNECTIONS = 8
/** Hostile cells in flight at once (BENCH_HOSTILE_C, default 1: one hostile client looping). */
const HOSTILE_CONNECTIONS = Number(process.env.BENCH_HOSTILE_C ?? 1)
const HOSTILE_ADDRESS = '127.0.0.2'
const SAMPLE_MS = 100

interface Round {
  quiet: ScenarioResult
  hostile: ScenarioResult
  /** How the hostile cells ended, `status name` → count. */
  outcomes: Map<string, number>
}

async function main(): Promise<void> {
  const target = await startTarget(process.env.BENCH_URL)
  const deaths = watchSandboxes(target)
  try {
    console.log(`hostile neighbour: ordinary 1+1 at c=${ORDINARY_CONNECTIONS}, hostile client at c=${HOSTILE_CONNECTIONS}; ${seconds} s per run, ${rounds} round(s)`)
    await runTrivialCell(target.url, ORDINARY_CONNECTIONS, 2) // warm-up: JIT, isolates, SQLite pages
    const results: Round[] = []
    for (let i = 0; i < rounds; i++) {
      const quiet = await runTrivialCell(target.url, ORDINARY_CONNECTIONS, seconds)
      console.log(`quiet    ${formatResult(quiet)}`)
      const outcomes = new Map<string, number>()
      const [hostile] = await Promise.all([
        runTrivialCell(target.url, ORDINARY_CONNECTIONS, seconds),
        runLoops({ scenario: 'hostile client', concurrency: HOSTILE_CONNECTIONS, durationSeconds: seconds, iteration: (loop) => runHostile(target.url, loop, outcomes) }),
      ])
      console.log(`hostile  ${formatResult(hostile)}`)
      results.push({ quiet, hostile, outcomes })
    }
    report(results, deaths.count())
  } finally {
    deaths.stop()
    await target.close()
  }
}

let nextHostile = 0

/** One hostile cell, submitted and waited for; its end is tallied. */
async function runHostile(url: string, _loop: number, outcomes: Map<string, number>): Promise<void> {
  const cell = HOSTILE_CELLS[nextHostile++ % HOSTILE_CELLS.length]!
  const reply = await requestFrom(HOSTILE_ADDRESS, 'POST', `${url}/api/v1/cells?wait=true`, { code: cell.code, timeoutMs: cell.timeoutMs })
  const body = reply.body as { status?: string; error?: { name?: string; code?: string } }
  const expected = reply.status === 200 && body.status === cell.status && body.error?.name === cell.error
  const outcome = `${cell.name}: ${reply.status} ${body.status ?? ''} ${body.error?.name ?? body.error?.code ?? ''}${expected ? '' : ' (unexpected)'}`
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
}

/**
 * Sandbox processes that died during the run: every sandbox pid seen, less
 * those alive at the end (a pool replaces a dead sandbox with a new pid).
 */
function watchSandboxes(target: BenchTarget): { count(): number; stop(): void } {
  const seen = new Set<number>()
  const sample = () => {
    for (const ref of target.processes()) if (ref.label.startsWith('sandbox ')) seen.add(ref.pid)
  }
  sample()
  const timer = setInterval(sample, SAMPLE_MS)
  return {
    count() {
      sample()
      const alive = new Set(target.processes().map((ref) => ref.pid))
      return [...seen].filter((pid) => !alive.has(pid)).length
    },
    stop: () => clearInterval(timer),
  }
}

function report(results: readonly Round[], deaths: number): void {
  const sum = (pick: (r: Round) => number) => results.reduce((total, r) => total + pick(r), 0)
  const ratio = sum((r) => r.hostile.cellsPerSecond) / sum((r) => r.quiet.cellsPerSecond)
  const worstP99 = (pick: (r: Round) => ScenarioResult) => Math.max(...results.map((r) => pick(r).p99Ms))
  console.log(`ordinary throughput beside the hostile client: ${(ratio * 100).toFixed(1)}% of quiet (target ≥ 80%)`)
  console.log(`ordinary p99: quiet ${worstP99((r) => r.quiet).toFixed(1)} ms, beside hostile ${worstP99((r) => r.hostile).toFixed(1)} ms`)
  console.log(`ordinary errors beside hostile: ${sum((r) => r.hostile.errors + r.hostile.non2xx)}`)
  console.log(`sandbox process deaths: ${deaths} (target 0)`)
  const outcomes = new Map<string, number>()
  for (const r of results) for (const [outcome, n] of r.outcomes) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + n)
  console.log('hostile cells ended:')
  for (const [outcome, n] of [...outcomes].sort()) console.log(`  ${String(n).padStart(5)}  ${outcome}`)
}

await main()
