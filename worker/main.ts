/**
 * The dispatcher process: reads config once, starts the dispatcher with a
 * local sandbox pool, and shuts down cleanly on SIGTERM/SIGINT (sandboxes
 * killed, sockets closed). Run directly (`node --import tsx worker/main.ts`)
 * or through `runDispatcher` from the cellgate CLI.
 */
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { startDispatcher, type Dispatcher } from './dispatcher.ts'
import { LocalLauncher } from './launchers/local.ts'

/**
 * Starts the dispatcher and its local pool; the returned stop() kills the
 * sandboxes and closes the sockets.
 *
 * @example
 *   const { stop } = await runDispatcher(loadConfig(process.env))
 */
export async function runDispatcher(config: Config): Promise<{ dispatcher: Dispatcher; stop: () => Promise<void> }> {
  const launcher = new LocalLauncher()
  const dispatcher = await startDispatcher(config, launcher)
  const { server, sandbox } = dispatcher.endpoints
  process.stderr.write(
    `[dispatcher] boot ${dispatcher.bootId}: servers connect to ${server}, sandboxes to ${sandbox}; ` +
      `pool of ${config.pool.size} local sandbox(es) × ${config.pool.slots} slot(s)\n`,
  )
  const stop = async (): Promise<void> => {
    await dispatcher.close()
    await launcher.close()
  }
  return { dispatcher, stop }
}

/** Stops on the first SIGTERM/SIGINT; a second one exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1)
    stopping = true
    process.stderr.write(`[dispatcher] ${signal}: stopping\n`)
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`[dispatcher] error while stopping: ${(err as Error).stack ?? String(err)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const { stop } = await runDispatcher(loadConfig(process.env))
    stopOnSignals(stop)
  } catch (err) {
    process.stderr.write(`[dispatcher] cannot start: ${(err as Error).message}\n`)
    process.exit(1)
  }
}
