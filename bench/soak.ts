/**
 * `npm run bench:soak`: trivial cells (submit and wait) at a fixed rate for
 * a long time (autocannon's overallRate), then the memory drift of every
 * process (resident memory after warm-up against the end of the run, and
 * the trend under load), the error count and the stored-results check. Writes
 * bench/results/<date>-soak.json and .html (memory over time).
 *
 * BENCH_RATE      cells per second (default: 70% of the rate measured first at concurrency 32)
 * BENCH_SECONDS   duration of the soak (default 600)
 * BENCH_QUICK=1   5 s, for a smoke check
 * BENCH_URL       soak this running cellgate (no memory or store check)
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { newReport } from './bench-report.ts'
import { startTarget } from './bench-target.ts'
import { runCannon } from './cannon.ts'
import { startSampler, summarizeMemory, type MemorySample } from './process-sampler.ts'
import { writeResults } from './results-file.ts'
import { formatCpu, formatResult } from './scenario-result.ts'
import { countStoredJobs, formatStoredCheck } from './stored-jobs.ts'
import { runTrivialCell, TRIVIAL_CODE } from './trivial-cell.ts'

const quick = process.env.BENCH_QUICK === '1'
const seconds = quick ? 5 : Number(process.env.BENCH_SECONDS ?? 600)
const CONNECTIONS = 32
const SETTLE_MS = 3_000

async function main(): Promise<void> {
  const target = await startTarget(process.env.BENCH_URL)
  const sampler = startSampler(target.processes, 1_000)
  const report = newReport('soak', { seconds, url: process.env.BENCH_URL ?? 'own cluster' })
  const say = (line: string) => {
    console.log(line)
    report.notes.push(line)
  }
  try {
    sampler.phase('warm-up')
    const probe = await runTrivialCell(target.url, CONNECTIONS, quick ? 1 : 5)
    const rate = Math.max(1, Math.round(Number(process.env.BENCH_RATE ?? 0.7 * probe.cellsPerSecond)))
    report.settings.rate = rate
    console.log(`cellgate at ${target.url}: ${probe.cellsPerSecond.toFixed(0)} cells/s at c=${CONNECTIONS}; soaking at ${rate} cells/s for ${seconds} s`)
    sampler.phase('idle (before)')
    await sleep(SETTLE_MS)
    const before = sampler.sample()

    sampler.phase(`soak ${rate}/s`)
    const since = Date.now()
    const mark = sampler.cpuMark()
    const r = await runCannon('soak: trivial cell at a fixed rate', {
      url: `${target.url}/api/v1/cells?wait=true`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: TRIVIAL_CODE }),
      overallRate: rate,
    }, CONNECTIONS, seconds)
    r.cpu = sampler.cpuSince(mark)
    report.scenarios.push(r)
    console.log(`${formatResult(r)}\n    ${formatCpu(r.cpu)}`)

    sampler.phase('idle (after)')
    await sleep(SETTLE_MS)
    const after = sampler.sample()
    say(`achieved ${r.cellsPerSecond.toFixed(0)} of ${rate} cells/s; errors: ${r.errors + r.non2xx} (${r.errors} connection errors/timeouts, ${r.non2xx} non-2xx)`)
    for (const line of drift(before, after)) say(line)
    for (const line of trend(sampler.samples.filter((m) => m.phase === `soak ${rate}/s`))) say(line)
    if (target.store) say(formatStoredCheck(r.requests - r.non2xx, await countStoredJobs(target.store, TRIVIAL_CODE, since), CONNECTIONS))
  } finally {
    sampler.stop()
    await target.close()
  }
  report.memory = { samples: sampler.samples, summary: summarizeMemory(sampler.samples) }
  const files = writeResults(report)
  console.log(`results: ${files.json}\nreport:  ${files.html}`)
}

/**
 * Resident memory under load: the mean of the soak's first tenth against its
 * last tenth. Idle-before against idle-after also counts what only grows
 * once load starts and then stays (a heap sized up for the load, isolate
 * heaps filled to their next collection); a leak grows between the two
 * tenths as well.
 */
function trend(samples: MemorySample[]): string[] {
  const tenth = Math.max(1, Math.floor(samples.length / 10))
  if (samples.length < 2 * tenth) return []
  const mean = (part: MemorySample[], label: string) => part.reduce((sum, m) => sum + (m.rssKb[label] ?? 0), 0) / part.length
  const first = samples.slice(0, tenth)
  const last = samples.slice(-tenth)
  return Object.keys(first[0]!.rssKb).flatMap((label) => {
    if (!last.every((m) => m.rssKb[label] !== undefined)) return []
    const [a, b] = [mean(first, label), mean(last, label)]
    return [`memory under load ${label}: ${change(a, b)}, mean of the soak's first tenth vs last tenth`]
  })
}

/** Resident memory of each process before the soak against after it. */
function drift(before: MemorySample, after: MemorySample): string[] {
  return Object.entries(before.rssKb).map(([label, kb]) => {
    const end = after.rssKb[label]
    if (end === undefined) return `memory drift ${label}: ${(kb / 1024).toFixed(1)} MiB before; the process was gone at the end`
    return `memory drift ${label}: ${change(kb, end)}`
  })
}

/** `130.2 → 144.0 MiB (+10.6%)` from two sizes in KiB. */
function change(fromKb: number, toKb: number): string {
  return `${(fromKb / 1024).toFixed(1)} → ${(toKb / 1024).toFixed(1)} MiB (${toKb >= fromKb ? '+' : ''}${(((toKb - fromKb) / fromKb) * 100).toFixed(1)}%)`
}

await main()
