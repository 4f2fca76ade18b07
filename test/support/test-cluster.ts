/**
 * A whole cellgate for end-to-end tests: real server and dispatcher
 * processes on free loopback ports, a fresh data directory, real sandboxes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster, type Cluster } from '../../bin/cluster.ts'
import { childrenOf } from './processes.ts'
import { ADMIN_KEY } from './principals.ts'

export interface TestCluster extends Cluster {
  dataDir: string
  /** The environment both processes were started with (ports, endpoints, data dir…). */
  env: Record<string, string>
  /** Pids of the sandbox processes the dispatcher runs now. */
  sandboxPids(): number[]
}

/**
 * A TCP port nobody listens on right now, below the kernel's ephemeral range:
 * a client that connects to a port in that range before its server binds it
 * can be given the same port as its own source and connect to itself (TCP
 * simultaneous open), which then keeps the server from binding.
 */
export async function freePort(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
  const top = Math.min(low ?? 32768, 65536) - 1
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * (top - 10_000))
    if (await canListen(port)) return port
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/**
 * @example
 *   const cluster = await startTestCluster({ CELLGATE_POOL_SIZE: '1' })
 *   afterAll(() => cluster.close())
 */
export async function startTestCluster(env: Record<string, string> = {}): Promise<TestCluster> {
  // A port found free may be taken by another test before our process binds it; then that
  // process exits, and a second try on other ports settles it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStartCluster(env)
    } catch (err) {
      if (attempt === 3) throw err
      console.warn(`test cluster, attempt ${attempt}: ${(err as Error).message}; trying other ports`)
    }
  }
}

async function tryStartCluster(env: Record<string, string>): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cellgate-e2e-'))
  const [port, dispatcherPort, sandboxPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const clusterEnv = {
    PORT: String(port),
    CELLGATE_DATA_DIR: dataDir,
    CELLGATE_BOOTSTRAP_KEY: ADMIN_KEY,
    CELLGATE_DISPATCHER: `tcp://127.0.0.1:${dispatcherPort}`,
    CELLGATE_SANDBOX_ENDPOINT: `tcp://127.0.0.1:${sandboxPort}`,
    // Clusters run side by side (parallel test files, bench targets): none may take the default 9464.
    CELLGATE_DISPATCHER_METRICS_PORT: String(metricsPort),
    CELLGATE_POOL_SIZE: '1',
    CELLGATE_SANDBOX_SLOTS: '2',
    ...env,
  }
  const cluster = startCluster({ supervise: false, stdio: process.env.CELLGATE_TEST_LOGS ? 'inherit' : 'ignore', env: clusterEnv })
  const close = async () => {
    await cluster.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await cluster.healthy()
  } catch (err) {
    await close()
    throw err
  }
  return {
    ...cluster,
    dataDir,
    env: clusterEnv,
    sandboxPids: () => (cluster.dispatcher.pid ? childrenOf(cluster.dispatcher.pid) : []),
    close,
  }
}
