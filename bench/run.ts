/**
 * `npm run bench`: every scenario at concurrency 1, 8, 32 and 128 against a
 * cellgate it starts itself (or the one at BENCH_URL), the two ceilings in
 * the same run, the memory of each process over time, the CPU each used
 * per run, how many event streams one server holds, and a check that every
 * answered cell is stored. Writes bench/results/<date>-bench.json and .html.
 *
 *   scenarios   trivial cell (submit and wait) · submit, follow events to done ·
 *               mix 90% trivial / 10% 50 ms · cells in sessions (skipped without a sessions API)
 *   ceilings    bare Hono JSON route (own process) · raw isolated-vm fresh context (this process)
 *
 * BENCH_URL       benchmark this running cellgate instead of starting one (no memory, CPU or store check)
 * BENCH_SECONDS   duration of each run (default 10: about 6 minutes in all)
 * BENCH_QUICK=1   1 s per run and 100 streams: a smoke check
 * BENCH_STREAMS   event streams held at once (default 1000)
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { startBareHono, runBareHono } from './bare-hono.ts'
import { newReport } from './bench-report.ts'
import { startTarget } from './bench-target.ts'
import { runMixedCells } from './mixed-cells.ts'
import { startSampler, summarizeMemory, type ProcessRef, type ProcessSampler } from './process-sampler.ts'
import { runRawIsolate } from './raw-isolate.ts'
import { writeResults } from './results-file.ts'
import { formatCpu, formatCpuPerCell, formatResult, type ScenarioResult } from './scenario-result.ts'
import { runSessionCells, sessionsMissing } from './session-cells.ts'
import { countStoredJobs, formatStoredCheck } from './stored-jobs.ts'
import { measureStreamCapacity, openFileLimit } from './stream-capacity.ts'
import { runStreamFollow } from './stream-follow.ts'
import { runTrivialCell, TRIVIAL_CODE } from './trivial-cell.ts'

const quick = process.env.BENCH_QUICK === '1'
const seconds = quick ? 1 : Number(process.env.BENCH_SECONDS ?? 10)
const streams = Number(process.env.BENCH_STREAMS ?? (quick ? 100 : 1000))
const CONCURRENCY = [1, 8, 32, 128]
const IDLE_MS = quick ? 500 : 3_000

type Run = (url: string, connections: number, seconds: number) => Promise<ScenarioResult>

const report = newReport('bench', { seconds, quick, streams, url: process.env.BENCH_URL ?? 'own cluster' })
const say = (line: string) => {
  console.log(line)
  report.notes.push(line)
}

/** Runs one scenario at every concurrency, with the CPU each process used in each run. */
async function runAll(name: string, url: string, run: Run, sampler: ProcessSampler): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const c of CONCURRENCY) {
    sampler.phase(`${name} c=${c}`)
    const mark = sampler.cpuMark()
    const r = await run(url, c, seconds)
    r.cpu = sampler.cpuSince(mark)
    console.log(`${formatResult(r)}\n    ${formatCpu(r.cpu)}`)
    results.push(r)
    report.scenarios.push(r)
  }
  return results
}

async function main(): Promise<void> {
  // One bench client opens a session per connection: up to 128 from one address.
  const target = await startTarget(process.env.BENCH_URL, { CELLGATE_SESSIONS_PER_CLIENT: '1000' })
  const extra: ProcessRef[] = []
  const sampler = startSampler(() => [...target.processes(), ...extra])
  try {
    console.log(`cellgate at ${target.url}; ${seconds} s per run at concurrency ${CONCURRENCY.join(', ')}`)
    sampler.phase('idle (started)')
    await sleep(IDLE_MS)
    sampler.phase('warm-up')
    await runTrivialCell(target.url, 8, quick ? 1 : 2) // JIT, isolates, SQLite pages
    sampler.phase('idle (warm)')
    await sleep(IDLE_MS)

    const trivialSince = Date.now()
    const trivial = await runAll('trivial', target.url, runTrivialCell, sampler)
    if (target.store) {
      sampler.phase('idle (stored check)')
      const ok2xx = trivial.reduce((n, r) => n + r.requests - r.non2xx, 0)
      say(formatStoredCheck(ok2xx, await countStoredJobs(target.store, TRIVIAL_CODE, trivialSince), CONCURRENCY.reduce((a, b) => a + b)))
    }
    await runAll('stream', target.url, runStreamFollow, sampler)
    await runAll('mix', target.url, runMixedCells, sampler)
    const noSessions = await sessionsMissing(target.url)
    if (noSessions) {
      console.log(`cells in sessions: skipped: ${noSessions}`)
      report.skipped.push({ scenario: 'cells in sessions', reason: noSessions })
    } else {
      try {
        await runAll('sessions', target.url, runSessionCells, sampler)
      } catch (err) {
        // Sessions are new: a failure here is reported, and the other measurements still run.
        say(`cells in sessions: failed: ${(err as Error).message}`)
        report.skipped.push({ scenario: 'cells in sessions', reason: `failed: ${(err as Error).message}` })
      }
    }

    const hono = await startBareHono()
    extra.push({ label: 'bare Hono', pid: hono.pid })
    try {
      await runBareHono(hono.url, 8, quick ? 1 : 2) // warm-up
      await runAll('bare Hono', hono.url, runBareHono, sampler)
    } finally {
      extra.length = 0
      await hono.close()
    }
    const raw = await runAll('raw isolate', target.url, (_url, c, s) => runRawIsolate(c, s), sampler)

    sampler.phase(`${streams} streams`)
    const limit = openFileLimit()
    if (limit !== undefined && limit < streams * 2 + 256) console.warn(`open file limit ${limit} may be too low for ${streams} streams: raise it with ulimit -n`)
    const health = (await (await fetch(`${target.url}/api/v1/health`)).json()) as { sandboxes?: { freeSlots?: number } }
    const cap = await measureStreamCapacity(target.url, streams, Math.max(1, health.sandboxes?.freeSlots ?? 4))
    say(`event streams: ${cap.complete}/${cap.streams} received every output and done (${cap.cells} cells, peak ${cap.peakOpen} open at once, ` +
      `${cap.failed} failed${cap.firstError ? `, first: ${cap.firstError}` : ''}, ${cap.seconds.toFixed(1)} s)`)

    sampler.phase('idle (end)')
    await sleep(IDLE_MS)
    sampler.sample()

    for (const [i, r] of trivial.entries()) {
      const rawRate = raw[i]!.cellsPerSecond
      say(`c=${r.connections}: trivial cells ${r.cellsPerSecond.toFixed(0)}/s = ${((r.cellsPerSecond / rawRate) * 100).toFixed(1)}% of raw isolated-vm (${rawRate.toFixed(0)}/s at ${r.connections} isolates); ${formatCpuPerCell(r)}`)
    }
    say(`raw isolated-vm c=1: ${formatCpuPerCell(raw[0]!)}`)
    const best = (rs: ScenarioResult[]) => Math.max(...rs.map((r) => r.cellsPerSecond))
    say(`best trivial ${best(trivial).toFixed(0)} cells/s = ${((best(trivial) / best(raw)) * 100).toFixed(1)}% of the best raw isolated-vm rate (${best(raw).toFixed(0)}/s)`)
  } finally {
    sampler.stop()
    await target.close()
  }
  report.memory = { samples: sampler.samples, summary: summarizeMemory(sampler.samples) }
  if (report.memory.summary.length > 0) {
    console.log('resident memory (MiB): idle → peak under load → end')
    for (const m of report.memory.summary) console.log(`  ${m.label.padEnd(24)} ${m.idleMb.toFixed(1).padStart(7)} → ${m.peakMb.toFixed(1).padStart(7)} → ${m.endMb.toFixed(1).padStart(7)}`)
  }
  const files = writeResults(report)
  console.log(`results: ${files.json}\nreport:  ${files.html}`)
}

await main()
