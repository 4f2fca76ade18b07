/**
 * The cellgate command.
 *
 *   cellgate all          server + dispatcher + local sandbox pool, on the embedded defaults
 *   cellgate server       the web tier alone
 *   cellgate dispatcher   the dispatcher and its sandbox pool alone
 *   cellgate sandbox      one sandbox process (started by a launcher; reads its boot line on stdin)
 */
import { ConfigError, loadConfig } from '../config/load.ts'
import { startCluster } from './cluster.ts'
import { stopOnSignals } from './stop-on-signals.ts'

const USAGE = 'usage: cellgate all|server|dispatcher|sandbox'

async function main(role: string | undefined): Promise<void> {
  switch (role) {
    case 'all':
      return runAll()
    case 'server': {
      const { startServer } = await import('../server/main.ts')
      const server = await startServer(loadConfig())
      return stopOnSignals('cellgate server', () => server.close())
    }
    case 'dispatcher': {
      const { runDispatcher } = await import('../worker/main.ts')
      const { stop } = await runDispatcher(loadConfig())
      return stopOnSignals('cellgate dispatcher', stop)
    }
    case 'sandbox':
      await import('../sandbox/main.ts')
      return
    default:
      console.error(USAGE)
      process.exitCode = 2
  }
}

/** Starts both processes, prints the URL once the system answers, and stops both on Ctrl-C. */
async function runAll(): Promise<void> {
  const config = loadConfig() // fail here, once, on bad config rather than in both children
  const cluster = startCluster({ env: {} })
  const stop = () => void cluster.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await cluster.healthy(120_000)
  const shown = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host
  const port = config.server.port
  console.log(`cellgate is running at http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/ (Ctrl-C stops it)`)
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(1)
})
