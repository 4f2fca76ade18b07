import { describe, expect, it } from 'vitest'
import { newReport } from './bench-report.ts'
import { renderReport } from './report-html.ts'
import { niceTicks } from './svg-chart.ts'

describe('renderReport', () => {
  const report = newReport('bench', { seconds: 1 })
  report.scenarios.push(
    { scenario: 'trivial <cell>', connections: 1, cellsPerSecond: 400, p50Ms: 2.1, p90Ms: 3, p99Ms: 5, requests: 400, errors: 0, non2xx: 0, durationSeconds: 1, cpu: { server: 0.9 } },
    { scenario: 'trivial <cell>', connections: 32, cellsPerSecond: 1200, p50Ms: 20, p90Ms: 30, p99Ms: 45, requests: 1200, errors: 0, non2xx: 0, durationSeconds: 1 },
  )
  report.skipped.push({ scenario: 'cells in sessions', reason: 'no sessions API' })
  report.memory.samples.push({ t: 0, phase: 'idle', rssKb: { server: 100_000 } }, { t: 1000, phase: 'trivial c=1', rssKb: { server: 120_000 } })
  report.notes.push('every result stored: OK')

  it('is one self-contained page with the charts and every figure', () => {
    const html = renderReport(report)
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).not.toMatch(/<script|src="http|href="http/) // nothing to load
    expect(html.match(/<svg /g)).toHaveLength(3) // throughput, latency of the one scenario, memory
    expect(html).toContain('trivial &lt;cell&gt;') // names are escaped
    expect(html).toContain('<td>1200</td>')
    expect(html).toContain('skipped: no sessions API')
    expect(html).toContain('server 90%')
  })
})

describe('niceTicks', () => {
  it('covers the maximum in round steps from 0', () => {
    expect(niceTicks(1234)).toEqual([0, 250, 500, 750, 1000, 1250])
    expect(niceTicks(0)).toEqual([0, 1])
  })
})
