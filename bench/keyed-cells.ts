/**
 * `npm run bench:keys`: what a key on every request costs. The trivial-cell
 * scenario (submit `1+1` and wait) anonymous and with a user account's key
 * (Authorization: Bearer, resolved through the store on every request: the
 * default CELLGATE_KEY_CACHE_MS of 0), alternating in one run against one
 * cluster, at c=1 (latency) and c=32 (throughput). Prints both, the keyed
 * throughput as a share of the anonymous one at c=32 (target: at least
 * 95%) and the difference of the p50s at c=1 (target: within 0.3 ms).
 *
 *   autocannon --1+1, no key------------------> server --> dispatcher --> sandboxes
 *   autocannon --1+1, Authorization: Bearer --/    (key + account: two indexed reads)
 *
 * Each round runs anonymous then keyed at c=1 and at c=32, the next round
 * the other way round, so drift over the run (a warming JIT, a growing
 * store) falls on both alike; the figures are means (throughput) and
 * medians of rounds (p50). On a shared machine the rates move with its other
 * load, so the server's CPU per cell is printed too: what the key costs
 * where it is paid.
 *
 * BENCH_URL       benchmark this running cellgate; then BENCH_KEY must be a key of it
 * BENCH_SECONDS   duration of each run (default 10)
 * BENCH_ROUNDS    rounds (default 2)
 * BENCH_QUICK=1   2 s runs, one round
 */
import { ADMIN_KEY } from '../test/support/principals.ts'
import { startTarget } from './bench-target.ts'
import { startSampler } from './process-sampler.ts'
import { formatCpuPerCell, formatResult, type ScenarioResult } from './scenario-result.ts'
import { runTrivialCell } from './trivial-cell.ts'

const quick = process.env.BENCH_QUICK === '1'
const seconds = quick ? 2 : Number(process.env.BENCH_SECONDS ?? 10)
const rounds = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 2)
const LATENCY_C = 1
const THROUGHPUT_C = 32

type Kind = 'anonymous' | 'keyed'
type Runs = Record<Kind, Record<number, ScenarioResult[]>>

async function main(): Promise<void> {
  if (process.env.BENCH_URL && !process.env.BENCH_KEY) throw new Error('BENCH_URL needs BENCH_KEY, a key of that cellgate allowed to run cells')
  const target = await startTarget(process.env.BENCH_URL)
  const sampler = startSampler(() => target.processes())
  try {
    const key = process.env.BENCH_KEY ?? (await userKey(target.url))
    console.log(`keyed vs anonymous trivial cells at c=${LATENCY_C} and c=${THROUGHPUT_C}; ${seconds} s per run, ${rounds} round(s)`)
    await runTrivialCell(target.url, 8, quick ? 1 : 2) // warm-up: JIT, isolates, SQLite pages
    await runTrivialCell(target.url, 8, quick ? 1 : 2, key)
    const runs: Runs = { anonymous: { [LATENCY_C]: [], [THROUGHPUT_C]: [] }, keyed: { [LATENCY_C]: [], [THROUGHPUT_C]: [] } }
    for (let round = 0; round < rounds; round++) {
      const order: Kind[] = round % 2 === 0 ? ['anonymous', 'keyed'] : ['keyed', 'anonymous']
      for (const c of [LATENCY_C, THROUGHPUT_C]) {
        for (const kind of order) {
          const mark = sampler.cpuMark()
          const r = await runTrivialCell(target.url, c, seconds, kind === 'keyed' ? key : undefined)
          r.cpu = sampler.cpuSince(mark)
          if (r.errors + r.non2xx > 0) throw new Error(`${kind} run at c=${c} had ${r.errors} errors and ${r.non2xx} non-2xx answers`)
          console.log(`${kind.padEnd(9)} ${formatResult(r)}\n          ${formatCpuPerCell(r)}`)
          runs[kind][c]!.push(r)
        }
      }
    }
    report(runs)
  } finally {
    sampler.stop()
    await target.close()
  }
}

/** The first key of a new user account: what an API client runs with (every scope but admin, no restriction). */
async function userKey(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/accounts`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ name: 'bench' }),
  })
  if (res.status !== 201) throw new Error(`could not make the bench account: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { secret: string }).secret
}

function report(runs: Runs): void {
  const rate = (kind: Kind) => runs[kind][THROUGHPUT_C]!.reduce((sum, r) => sum + r.cellsPerSecond, 0) / runs[kind][THROUGHPUT_C]!.length
  const p50 = (kind: Kind) => median(runs[kind][LATENCY_C]!.map((r) => r.p50Ms))
  const ratio = rate('keyed') / rate('anonymous')
  const difference = p50('keyed') - p50('anonymous')
  console.log(`throughput at c=${THROUGHPUT_C}: anonymous ${rate('anonymous').toFixed(0)} cells/s, keyed ${rate('keyed').toFixed(0)} cells/s: ` +
    `${(ratio * 100).toFixed(1)}% (target ≥ 95%: ${ratio >= 0.95 ? 'met' : 'NOT met'})`)
  console.log(`p50 at c=${LATENCY_C}: anonymous ${p50('anonymous').toFixed(2)} ms, keyed ${p50('keyed').toFixed(2)} ms: ` +
    `${difference >= 0 ? '+' : ''}${difference.toFixed(2)} ms (target within 0.3 ms: ${Math.abs(difference) <= 0.3 ? 'met' : 'NOT met'})`)
  // What the key costs where it is paid, in the server's CPU: steadier than rates on a shared machine.
  const serverMs = (kind: Kind) => median(runs[kind][THROUGHPUT_C]!.map((r) => ((r.cpu?.server ?? NaN) * 1000) / r.cellsPerSecond))
  if (!Number.isNaN(serverMs('keyed'))) {
    console.log(`server CPU per cell at c=${THROUGHPUT_C}: anonymous ${serverMs('anonymous').toFixed(3)} ms, keyed ${serverMs('keyed').toFixed(3)} ms ` +
      `(${((serverMs('keyed') - serverMs('anonymous')) * 1000).toFixed(0)} µs for the key)`)
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

await main()
