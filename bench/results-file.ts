/**
 * Writes a bench run to bench/results/ (gitignored): `<ISO date>.json`
 * with everything measured and `<ISO date>.html`, the report, beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchReport } from './bench-report.ts'
import { renderReport } from './report-html.ts'

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

/**
 * @example
 *   const { json, html } = writeResults(report) // bench/results/2026-11-22T18-58-49.722Z-bench.json, .html
 */
export function writeResults(report: BenchReport, dir = RESULTS_DIR): { json: string; html: string } {
  mkdirSync(dir, { recursive: true })
  // Colons are not allowed in file names everywhere.
  const base = join(dir, `${report.startedAt.replace(/:/g, '-')}-${report.kind}`)
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 1) + '\n')
  writeFileSync(`${base}.html`, renderReport(report))
  return { json: `${base}.json`, html: `${base}.html` }
}
