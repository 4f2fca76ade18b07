/**
 * What the dispatcher answers to a server's `workers` request (shown by
 * GET /api/v1/workers): every host the launcher knows, with its state and
 * load, and every sandbox process of the pool. A snapshot built on demand
 * from the pool and the launcher; nothing is kept for it.
 *
 * Load is jobs running out of slots: a host's slots are those of its
 * sandboxes that are not being retired.
 */
import type { WorkerHost, WorkerSandbox, WorkersReport } from '../protocol/index.ts'
import type { Launcher, LauncherHost } from './launcher.ts'
import type { Pool, Sandbox } from './pool.ts'

/**
 * @example
 *   workersReport(dispatcher.pool, launcher)
 *   // { hosts: [{ host: 'local', state: 'up', sandboxes: 2, running: 1, slots: 4, lastError: null }], sandboxes: [...] }
 */
export function workersReport(pool: Pool, launcher: Launcher): WorkersReport {
  const sandboxes = pool.list()
  const known: LauncherHost[] = launcher.hosts?.() ?? [{ host: 'local', state: 'up', lastError: pool.lastError }]
  const names = new Set(known.map(({ host }) => host))
  // A sandbox on a host the launcher does not list (a test launcher) still shows under its host.
  for (const { handle } of sandboxes) {
    if (!names.has(handle.host)) {
      names.add(handle.host)
      known.push({ host: handle.host, state: 'up', lastError: null })
    }
  }
  return {
    hosts: known.map((host) => hostView(host, sandboxes.filter((sandbox) => sandbox.handle.host === host.host))),
    sandboxes: sandboxes.map(sandboxView),
  }
}

function hostView({ host, state, lastError }: LauncherHost, sandboxes: Sandbox[]): WorkerHost {
  const live = sandboxes.filter((sandbox) => sandbox.retired === null)
  return {
    host,
    // A host still making its connection cannot take sandboxes yet: down until it answers.
    state: state === 'up' ? 'up' : 'down',
    sandboxes: live.length,
    running: live.reduce((sum, sandbox) => sum + sandbox.jobs.size, 0),
    slots: live.reduce((sum, sandbox) => sum + sandbox.slots, 0),
    lastError,
  }
}

function sandboxView(sandbox: Sandbox): WorkerSandbox {
  const { pid } = sandbox.handle
  return {
    id: sandbox.id,
    host: sandbox.handle.host,
    state: sandbox.state,
    ...(pid !== undefined ? { pid } : {}),
    slots: sandbox.slots,
    running: sandbox.jobs.size,
    jobsRun: sandbox.jobsRun,
    lastError: sandbox.retired,
  }
}
