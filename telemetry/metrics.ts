/**
 * One Prometheus registry per process (prom-client), made by the entry
 * point and passed to the components that count; each component registers
 * its own metrics on it (server/metrics.ts, worker/metrics.ts). Tests read
 * values from the registry instead of parsing log lines.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

/**
 * A registry with the process's own metrics (CPU, memory, event loop lag…)
 * under the `cellgate_<process>_` prefix.
 *
 * @example
 *   const registry = createRegistry('server')
 *   const text = await registry.metrics() // Prometheus text format, registry.contentType
 */
export function createRegistry(processName: string): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ process: processName })
  collectDefaultMetrics({ register: registry, prefix: 'cellgate_' })
  return registry
}

/**
 * The value of one series (with these labels) as the registry holds it now;
 * 0 when nothing was counted yet. A histogram's series are named with their
 * suffix (`_count`, `_sum`, `_bucket` with an `le` label). For tests.
 *
 * @example
 *   await metricValue(registry, 'cellgate_jobs_ended_total', { status: 'done' }) // 3
 *   await metricValue(registry, 'cellgate_job_run_seconds_count') // 3
 */
export async function metricValue(registry: Registry, series: string, labels: Record<string, string> = {}): Promise<number> {
  const name = registry.getSingleMetric(series) ? series : series.replace(/_(count|sum|bucket)$/, '')
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${series}`)
  // Histograms name each value (`_bucket`, `_sum`, `_count`); prom-client's type for get() leaves metricName out.
  const values = (await metric.get()).values as { value: number; labels: Record<string, unknown>; metricName?: string }[]
  const match = values.find((v) => (v.metricName ?? name) === series && Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
  return match?.value ?? 0
}
