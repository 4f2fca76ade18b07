/**
 * The cellgate command.
 *
 *   cellgate all          server + dispatcher + local sandbox pool, on the embedded defaults
 *   cellgate server       the web tier alone
 *   cellgate dispatcher   the dispatcher and its sandbox pool alone
 *   cellgate sandbox      one sandbox process (started by a launcher; reads its boot line on stdin)
 *   cellgate keys …       make, list and revoke keys in the store (bin/keys-cli.ts)
 *   cellgate accounts …   make and disable accounts in the store (bin/accounts-cli.ts)
 *
 * Each process logs JSON lines through one logger (telemetry/logger.ts),
 * made here for the dispatcher and for `all`. What this command says to the
 * person who ran it (its usage, a config error, the URL `all` serves at) is
 * plain text: it is the command's answer, not a process's log.
 */
import { ConfigError, loadConfig } from '../config/load.ts'
import { createLogger } from '../telemetry/logger.ts'
import { CliError } from './cli-error.ts'
import { startCluster } from './cluster.ts'
import { stopOnSignals } from './stop-on-signals.ts'

const USAGE = 'usage: cellgate all|server|dispatcher|sandbox|keys|accounts'

async function main(role: string | undefined, args: string[]): Promise<void> {
  switch (role) {
    case 'all':
      return runAll()
    case 'server': {
      const { startServer } = await import('../server/main.ts')
      const config = loadConfig()
      const log = createLogger('server', config.log)
      const server = await startServer(config, { logger: log })
      return stopOnSignals(log, () => server.close())
    }
    case 'dispatcher': {
      const { runDispatcher } = await import('../worker/main.ts')
      const config = loadConfig()
      const log = createLogger('dispatcher', config.log)
      const { stop } = await runDispatcher(config, { log })
      return stopOnSignals(log, stop)
    }
    case 'sandbox':
      await import('../sandbox/main.ts')
      return
    case 'keys': {
      const { runKeys } = await import('./keys-cli.ts')
      const { CONSOLE } = await import('./operator.ts')
      return runKeys(args, CONSOLE)
    }
    case 'accounts': {
      const { runAccounts } = await import('./accounts-cli.ts')
      const { CONSOLE } = await import('./operator.ts')
      return runAccounts(args, CONSOLE, () => text(process.stdin))
    }
    default:
      console.error(USAGE)
      process.exitCode = 2
  }
}

/** Starts both processes, prints the URL once the system answers, and stops both on Ctrl-C. */
async function runAll(): Promise<void> {
  const config = loadConfig() // fail here, once, on bad config rather than in both children
  const cluster = startCluster({ env: {}, log: createLogger('cellgate', config.log) })
  const stop = () => void cluster.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await cluster.healthy(120_000)
  const shown = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host
  const port = config.server.port
  // The quick start's line (README), exactly: the answer to whoever typed `cellgate all`.
  console.log(`cellgate is running at http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/ (Ctrl-C stops it)`)
}

/** All of a stream as text (a password piped to `accounts create --password-stdin`). */
async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let all = ''
  for await (const chunk of stream) all += String(chunk)
  return all
}

main(process.argv[2], process.argv.slice(3)).catch((err: unknown) => {
  // A refusal of the operator's subcommands is their answer, as a config error is: no stack.
  console.error(err instanceof ConfigError || err instanceof CliError ? err.message : err)
  process.exit(err instanceof CliError ? err.exitCode : 1)
})
