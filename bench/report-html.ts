/**
 * The HTML report of a bench run: one self-contained page (inline SVG and
 * CSS, no script, nothing fetched) with throughput and latency percentiles
 * against concurrency, memory over time, and every figure in tables.
 */
import type { BenchReport } from './bench-report.ts'
import type { ScenarioResult } from './scenario-result.ts'
import { esc, lineChart, type Band } from './svg-chart.ts'

/**
 * @example
 *   writeFileSync('report.html', renderReport(report))
 */
export function renderReport(report: BenchReport): string {
  const byScenario = groupByScenario(report.scenarios)
  const sections = [
    `<h1>cellgate ${esc(report.kind)} — ${esc(report.startedAt)}</h1>`,
    `<p>${esc(`${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGb} GB, Node ${report.machine.node}, ${report.machine.platform}`)}<br>` +
      `settings: ${esc(Object.entries(report.settings).map(([k, v]) => `${k}=${v}`).join(', '))}</p>`,
  ]
  if (byScenario.size > 0) {
    sections.push(lineChart({
      title: 'Throughput against concurrency',
      xLabel: 'concurrency',
      yLabel: 'cells/s',
      xScale: 'log2',
      series: [...byScenario].map(([name, rs]) => ({ name: short(name), points: rs.map((r) => [r.connections, r.cellsPerSecond] as const) })),
    }))
    sections.push('<div class="grid">' + [...byScenario].map(([name, rs]) => lineChart({
      title: `Latency: ${short(name)}`,
      xLabel: 'concurrency',
      yLabel: 'ms',
      xScale: 'log2',
      width: 520,
      height: 260,
      series: (['p50Ms', 'p90Ms', 'p99Ms'] as const).map((key) => ({ name: key.slice(0, 3), points: rs.map((r) => [r.connections, r[key]] as const) })),
    })).join('') + '</div>')
  }
  if (report.memory.samples.length > 0) sections.push(memoryChart(report))
  if (report.notes.length > 0) sections.push(`<h2>Findings</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`)
  sections.push(resultsTable(report))
  if (report.memory.summary.length > 0) {
    sections.push('<h2>Resident memory (MiB)</h2><table><tr><th>process</th><th>idle</th><th>peak under load</th><th>end</th></tr>' +
      report.memory.summary.map((m) => `<tr><td>${esc(m.label)}</td><td>${m.idleMb.toFixed(1)}</td><td>${m.peakMb.toFixed(1)}</td><td>${m.endMb.toFixed(1)}</td></tr>`).join('') +
      '</table>')
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cellgate ${esc(report.kind)} ${esc(report.startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:8px}svg{margin:8px 0}</style></head>
<body>${sections.join('\n')}</body></html>
`
}

function memoryChart(report: BenchReport): string {
  const { samples } = report.memory
  const labels = [...new Set(samples.flatMap((s) => Object.keys(s.rssKb)))]
  const bands: Band[] = []
  for (const s of samples) {
    const last = bands[bands.length - 1]
    if (last && last.label === s.phase) last.to = s.t / 1000
    else bands.push({ from: s.t / 1000, to: s.t / 1000, label: s.phase })
  }
  return lineChart({
    title: 'Resident memory over time (shaded: phases, hover for names)',
    xLabel: 'seconds since start',
    yLabel: 'MiB',
    width: 1000,
    height: 360,
    bands,
    series: labels.map((label) => ({
      name: label,
      points: samples.filter((s) => s.rssKb[label] !== undefined).map((s) => [s.t / 1000, s.rssKb[label]! / 1024] as const),
    })),
  })
}

function resultsTable(report: BenchReport): string {
  const rows = report.scenarios.map((r) => `<tr><td>${esc(r.scenario)}</td><td>${r.connections}</td><td>${r.cellsPerSecond.toFixed(0)}</td>` +
    `<td>${r.p50Ms}</td><td>${r.p90Ms}</td><td>${r.p99Ms}</td><td>${r.requests}</td><td>${r.errors}</td><td>${r.non2xx}</td>` +
    `<td>${esc(r.cpu ? Object.entries(r.cpu).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ') : '')}</td></tr>`)
  const skipped = report.skipped.map((s) => `<tr><td>${esc(s.scenario)}</td><td colspan="9">skipped: ${esc(s.reason)}</td></tr>`)
  return '<h2>All runs</h2><table><tr><th>scenario</th><th>c</th><th>cells/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>requests</th><th>errors</th><th>non-2xx</th><th>CPU (share of one core)</th></tr>' +
    [...rows, ...skipped].join('') + '</table>'
}

function groupByScenario(results: readonly ScenarioResult[]): Map<string, ScenarioResult[]> {
  const groups = new Map<string, ScenarioResult[]>()
  for (const r of results) groups.set(r.scenario, [...(groups.get(r.scenario) ?? []), r])
  return groups
}

/** Legend-sized scenario names. */
function short(name: string): string {
  return name.length > 28 ? `${name.slice(0, 27)}…` : name
}
