/**
 * The cellgate a bench command measures: the one at BENCH_URL, or a whole
 * cluster it starts itself (test/support/test-cluster.ts: free loopback
 * ports, a fresh data directory, the configured default pool) — then it also
 * knows the processes to watch and can read the cluster's store.
 */
import { readFileSync } from 'node:fs'
import { loadConfig } from '../config/load.ts'
import { storeFor } from '../server/store/open-store.ts'
import type { Store } from '../server/store/port.ts'
import { startTestCluster } from '../test/support/test-cluster.ts'
import type { ProcessRef } from './process-sampler.ts'

export interface BenchTarget {
  url: string
  /** server, dispatcher, each sandbox and this process (the load generator), as far as known. */
  processes(): ProcessRef[]
  /** The cluster's store, opened read-side; none for BENCH_URL. */
  store?: Store
  close(): Promise<void>
}

/** This process: it generates the load and runs the raw-isolate ceiling. */
export const LOAD_GENERATOR: ProcessRef = { label: 'bench (load generator)', pid: process.pid }

/**
 * @example
 *   const target = await startTarget(process.env.BENCH_URL)
 *   try { … } finally { await target.close() }
 */
export async function startTarget(url: string | undefined, env: Record<string, string> = {}): Promise<BenchTarget> {
  if (url) return { url, processes: () => [LOAD_GENERATOR], close: async () => {} }
  // The pool as `npm start` runs it: the configured defaults (test clusters otherwise use a small one).
  const cluster = await startTestCluster({ CELLGATE_POOL_SIZE: '', CELLGATE_SANDBOX_SLOTS: '', ...env })
  const store = storeFor(loadConfig({ ...process.env, ...cluster.env }))
  await store.open()
  return {
    url: cluster.url,
    processes: () => {
      const refs: ProcessRef[] = [LOAD_GENERATOR]
      if (cluster.server.pid) refs.push({ label: 'server', pid: cluster.server.pid })
      if (cluster.dispatcher.pid) refs.push({ label: 'dispatcher', pid: cluster.dispatcher.pid })
      // The dispatcher's children are its sandboxes, and tsx's esbuild service, which is not one.
      for (const pid of cluster.sandboxPids().filter(isSandbox).sort((a, b) => a - b)) refs.push({ label: `sandbox ${pid}`, pid })
      return refs
    },
    store,
    async close() {
      await store.close()
      await cluster.close()
    },
  }
}

/** `…/sandbox/main.ts` (the local launcher) or `cellgate.ts sandbox`. */
const SANDBOX_ARG = /(^|\/)sandbox(\/main\.ts)?$/

function isSandbox(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => SANDBOX_ARG.test(arg))
  } catch {
    return false
  }
}
