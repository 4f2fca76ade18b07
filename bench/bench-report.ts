/**
 * What one bench run keeps: the machine, the settings, every scenario
 * result, the memory samples and the printed findings. Written as
 * bench/results/<ISO date>.json with an HTML report beside it
 * (results-file.ts), so runs can be compared later.
 */
import { cpus, totalmem } from 'node:os'
import type { MemorySample, MemorySummary } from './process-sampler.ts'
import type { ScenarioResult } from './scenario-result.ts'

export interface BenchReport {
  /** Which command produced it: `bench`, `soak` or `peers`. */
  kind: string
  startedAt: string
  machine: Machine
  settings: Record<string, string | number | boolean>
  scenarios: ScenarioResult[]
  skipped: { scenario: string; reason: string }[]
  memory: { samples: MemorySample[]; summary: MemorySummary[] }
  /** Findings printed during the run (stored-results check, stream capacity, ratios…). */
  notes: string[]
}

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGb: number
  node: string
  platform: string
}

export function describeMachine(): Machine {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

/**
 * A report with nothing in it yet; the command fills it as it runs.
 *
 * @example
 *   const report = newReport('bench', { seconds: 10 })
 */
export function newReport(kind: string, settings: BenchReport['settings']): BenchReport {
  return { kind, startedAt: new Date().toISOString(), machine: describeMachine(), settings, scenarios: [], skipped: [], memory: { samples: [], summary: [] }, notes: [] }
}
