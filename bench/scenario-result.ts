/**
 * What one run of one scenario at one concurrency measured, the shape every
 * driver (autocannon, the event-stream and Jupyter loops, the raw isolate)
 * returns, and how it is printed.
 */
import { MACHINE } from './process-sampler.ts'

export interface ScenarioResult {
  scenario: string
  connections: number
  /** Successful cells (2xx answers, completed loops) per second of the run. */
  cellsPerSecond: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  /** Requests answered (any status) or loops completed. */
  requests: number
  /** Connection errors, timeouts and failed loops. */
  errors: number
  /** Answers with a status other than 2xx. */
  non2xx: number
  durationSeconds: number
  /** Share of one core each process used during the run, by role (see process-sampler.ts). */
  cpu?: Record<string, number>
}

/** One line: rate, latencies, counts. */
export function formatResult(r: ScenarioResult): string {
  return (
    `${r.scenario} @ c=${r.connections}: ${r.cellsPerSecond.toFixed(0)} cells/s, ` +
    `p50 ${ms(r.p50Ms)}, p90 ${ms(r.p90Ms)}, p99 ${ms(r.p99Ms)}, ${r.requests} requests, ${r.errors} errors, ${r.non2xx} non-2xx`
  )
}

/**
 * The CPU line of a run, as shares of one core: `cpu: server 97%, dispatcher
 * 31%, …, other processes on the machine 12%` (idle processes left out).
 */
export function formatCpu(cpu: Record<string, number>): string {
  const { [MACHINE]: machine, ...ours } = cpu
  const busy = Object.entries(ours).filter(([, share]) => share >= 0.005)
  if (machine !== undefined) busy.push(['other processes on the machine', Math.max(0, machine - busy.reduce((sum, [, share]) => sum + share, 0))])
  return `cpu: ${busy.map(([label, share]) => `${label} ${(share * 100).toFixed(0)}%`).join(', ')}`
}

/**
 * CPU milliseconds each process spent per successful cell, sandboxes
 * summed: `cpu per cell: server 1.21 ms, dispatcher 0.40 ms, sandboxes 1.62 ms, …`.
 */
export function formatCpuPerCell(r: ScenarioResult): string {
  const perCell = new Map<string, number>()
  for (const [label, share] of Object.entries(r.cpu ?? {})) {
    if (label === MACHINE) continue
    const key = label.startsWith('sandbox ') ? 'sandboxes' : label
    perCell.set(key, (perCell.get(key) ?? 0) + (share * 1000) / r.cellsPerSecond)
  }
  return `cpu per cell: ${[...perCell].filter(([, cpuMs]) => cpuMs >= 0.005).map(([label, cpuMs]) => `${label} ${cpuMs.toFixed(2)} ms`).join(', ')}`
}

function ms(value: number): string {
  return Number.isNaN(value) ? '-' : `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`
}
