/**
 * How a cellgate process ends: the first SIGTERM/SIGINT stops it gracefully,
 * a second one exits at once. Both are events of the process, so they go to
 * its log (the logger flushes what it holds on exit).
 */
import type { Logger } from '../telemetry/logger.ts'

/**
 * @example
 *   const { stop } = await runDispatcher(config, { log })
 *   stopOnSignals(log, stop)
 */
export function stopOnSignals(processLog: Logger, stop: () => Promise<void>): void {
  const log = processLog.child({ component: 'signals' })
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1)
    stopping = true
    log.info({ signal }, 'stopping')
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
