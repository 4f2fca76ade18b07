/**
 * `npm run bench:peers`: cellgate's trivial-cell scenario (submit `1+1` and
 * wait) beside Jupyter Server executing the same `1+1` over its REST +
 * WebSocket API, with one kernel and with four kernels (requests sent to
 * them round-robin), and four kernels of a Jupyter with Nagle's algorithm
 * off on its WebSockets (its best latency; see jupyter-server.ts), in one run, interleaved at each concurrency so the
 * machine's other load falls on all alike. Prints the throughput and p50
 * ratios and writes bench/results/<date>-peers.json and .html.
 *
 * Needs scripts/install-jupyter.sh; without Jupyter it says so and exits 0.
 *
 * BENCH_SECONDS   duration of each run (default 10)
 * BENCH_QUICK=1   1 s per run
 * BENCH_URL       compare this running cellgate instead of starting one
 */
import { newReport } from './bench-report.ts'
import { startTarget } from './bench-target.ts'
import { jupyterMissing, startJupyter, type JupyterServer, type Kernel } from './jupyter-server.ts'
import { runLoops } from './loop-driver.ts'
import { startSampler, summarizeMemory } from './process-sampler.ts'
import { writeResults } from './results-file.ts'
import { formatCpu, formatResult, type ScenarioResult } from './scenario-result.ts'
import { runTrivialCell, TRIVIAL_CODE } from './trivial-cell.ts'

const quick = process.env.BENCH_QUICK === '1'
const seconds = quick ? 1 : Number(process.env.BENCH_SECONDS ?? 10)
const CONCURRENCY = [1, 4, 32]

/** Sends requests to the kernels in turn, whatever loop they come from. */
function runJupyter(kernels: Kernel[], concurrency: number, durationSeconds: number, variant = ''): Promise<ScenarioResult> {
  let next = 0
  return runLoops({
    scenario: `Jupyter Server${variant}, ${kernels.length} kernel${kernels.length > 1 ? 's' : ''}`,
    concurrency,
    durationSeconds,
    iteration: () => kernels[next++ % kernels.length]!.execute(TRIVIAL_CODE),
  })
}

async function main(): Promise<void> {
  const missing = jupyterMissing()
  if (missing) {
    console.log(`bench:peers skipped: ${missing}`)
    return
  }
  const report = newReport('peers', { seconds, quick, url: process.env.BENCH_URL ?? 'own cluster' })
  const target = await startTarget(process.env.BENCH_URL)
  // As shipped, and with Nagle off on its WebSockets (see jupyter-server.ts): Jupyter at its best.
  const jupyters: JupyterServer[] = []
  const kernels: Kernel[] = []
  const tuned: Kernel[] = []
  const sampler = startSampler(() => [
    ...target.processes(),
    ...jupyters.flatMap((jupyter, i) => [
      { label: `jupyter-server${i ? ' (Nagle off)' : ''}`, pid: jupyter.pid },
      ...jupyter.kernelPids().map((pid) => ({ label: `kernel ${pid}`, pid })),
    ]),
  ])
  try {
    for (const [noDelay, into] of [[false, kernels], [true, tuned]] as const) {
      const jupyter = await startJupyter({ noDelay })
      jupyters.push(jupyter)
      for (let i = 0; i < 4; i++) into.push(await jupyter.startKernel())
    }
    console.log(`cellgate at ${target.url}, Jupyter Server at ${jupyters[0]!.url} (4 kernels) and, Nagle off, at ${jupyters[1]!.url} (4 kernels); ${seconds} s per run`)
    sampler.phase('warm-up')
    await runTrivialCell(target.url, 8, quick ? 1 : 2)
    await runJupyter(kernels, 4, quick ? 1 : 2)
    await runJupyter(tuned, 4, quick ? 1 : 2)

    const runs: Record<string, (c: number) => Promise<ScenarioResult>> = {
      cellgate: (c) => runTrivialCell(target.url, c, seconds),
      'jupyter 1 kernel': (c) => runJupyter(kernels.slice(0, 1), c, seconds),
      'jupyter 4 kernels': (c) => runJupyter(kernels, c, seconds),
      'jupyter 4 kernels, Nagle off': (c) => runJupyter(tuned, c, seconds, ' (Nagle off)'),
    }
    const results = new Map<string, ScenarioResult[]>(Object.keys(runs).map((name) => [name, []]))
    for (const c of CONCURRENCY) {
      for (const [name, run] of Object.entries(runs)) {
        sampler.phase(`${name} c=${c}`)
        const mark = sampler.cpuMark()
        const r = await run(c)
        r.cpu = sampler.cpuSince(mark)
        console.log(`${formatResult(r)}\n    ${formatCpu(r.cpu)}`)
        results.get(name)!.push(r)
        report.scenarios.push(r)
      }
    }
    const say = (line: string) => {
      console.log(line)
      report.notes.push(line)
    }
    for (const [i, c] of CONCURRENCY.entries()) {
      const cg = results.get('cellgate')![i]!
      for (const peer of Object.keys(runs).slice(1)) {
        const j = results.get(peer)![i]!
        say(`c=${c}: cellgate / ${peer}: throughput ${(cg.cellsPerSecond / j.cellsPerSecond).toFixed(2)}× (${cg.cellsPerSecond.toFixed(0)} vs ${j.cellsPerSecond.toFixed(0)} cells/s), ` +
          `p50 ${(cg.p50Ms / j.p50Ms).toFixed(2)}× (${cg.p50Ms} vs ${j.p50Ms} ms)`)
      }
    }
    const best = (name: string) => Math.max(...results.get(name)!.map((r) => r.cellsPerSecond))
    const lowestP50 = (name: string) => Math.min(...results.get(name)!.map((r) => r.p50Ms))
    for (const peer of ['jupyter 4 kernels', 'jupyter 4 kernels, Nagle off']) {
      say(`best of each: cellgate ${best('cellgate').toFixed(0)} cells/s = ${(best('cellgate') / best(peer)).toFixed(2)}× ${peer} (${best(peer).toFixed(0)}/s); ` +
        `lowest p50 ${lowestP50('cellgate')} ms = ${(lowestP50('cellgate') / lowestP50(peer)).toFixed(2)}× its (${lowestP50(peer)} ms)`)
    }
  } finally {
    sampler.stop()
    for (const kernel of [...kernels, ...tuned]) await kernel.close()
    for (const jupyter of jupyters) await jupyter.close()
    await target.close()
  }
  report.memory = { samples: sampler.samples, summary: summarizeMemory(sampler.samples) }
  const files = writeResults(report)
  console.log(`results: ${files.json}\nreport:  ${files.html}`)
}

await main()
