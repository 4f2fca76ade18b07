/**
 * `npm run bench:ssh`: the trivial-cell scenario (bench/trivial-cell.ts)
 * against two cellgates started side by side in one run, the same pool
 * size and slots: one with local sandboxes, one whose sandboxes are
 * launched over SSH (real sshd on loopback, the untrusted account from
 * scripts/provision-host.sh, CURVE on the sandbox link). Runs alternate
 * local / SSH at each concurrency, and the SSH/local throughput ratio is
 * printed: SSH only launches sandboxes, the work runs over ZeroMQ, so it
 * should cost little.
 *
 *   autocannon ──HTTP──> server ──> dispatcher ──spawn──> sandboxes             (local)
 *   autocannon ──HTTP──> server ──> dispatcher ──ssh2──> sshd ──> sandboxes     (ssh, CURVE back)
 *
 * Needs root and sshd (as the SSH tests do); without them it says why and exits 0.
 *
 * BENCH_SECONDS   duration of each autocannon run (default 10)
 */
import { prepareSshAccess, sshdMissing, startSshd } from '../test/support/sshd.ts'
import { startTestCluster, type TestCluster } from '../test/support/test-cluster.ts'
import { formatResult, type ScenarioResult } from './scenario-result.ts'
import { runTrivialCell } from './trivial-cell.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = [1, 32]

async function main(): Promise<void> {
  const missing = sshdMissing()
  if (missing) {
    console.log(`bench:ssh skipped: ${missing}`)
    return
  }
  const access = prepareSshAccess()
  const sshd = await startSshd(access)
  // The configured default pool for both (CELLGATE_POOL_SIZE and _SLOTS unset): an SSH host takes pool.size sandboxes.
  const defaults = { CELLGATE_POOL_SIZE: '', CELLGATE_SANDBOX_SLOTS: '' }
  const clusters: { name: string; cluster: TestCluster }[] = []
  try {
    clusters.push({ name: 'local', cluster: await startTestCluster(defaults) })
    clusters.push({
      name: 'ssh',
      cluster: await startTestCluster({
        ...defaults,
        CELLGATE_SSH_HOSTS: sshd.target,
        CELLGATE_SSH_KEY: access.keyPath,
        CELLGATE_SSH_KNOWN_HOSTS: access.knownHostsPath,
      }),
    })
    console.log(`local launcher and SSH launcher (${sshd.target}); ${seconds} s per run`)
    for (const { cluster } of clusters) await runTrivialCell(cluster.url, 8, 2) // warm-up: JIT, isolates, SQLite pages

    const results = new Map<string, ScenarioResult[]>(clusters.map(({ name }) => [name, []]))
    for (const connections of CONNECTIONS) {
      for (const { name, cluster } of clusters) {
        const r = await runTrivialCell(cluster.url, connections, seconds)
        results.get(name)!.push(r)
        console.log(`${name.padEnd(5)} ${formatResult(r)}`)
      }
    }
    for (const [i, connections] of CONNECTIONS.entries()) {
      const local = results.get('local')![i]!
      const ssh = results.get('ssh')![i]!
      console.log(`c=${connections}: ssh/local throughput ${((ssh.cellsPerSecond / local.cellsPerSecond) * 100).toFixed(1)}%`)
    }
  } finally {
    for (const { cluster } of clusters) await cluster.close()
    await sshd.kill()
  }
}

await main()
