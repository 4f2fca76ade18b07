/**
 * How a cellgate process ends: the first SIGTERM/SIGINT stops it gracefully,
 * a second one exits at once.
 */

/**
 * @example
 *   const server = await startServer(config)
 *   stopOnSignals('cellgate server', () => server.close())
 */
export function stopOnSignals(name: string, stop: () => Promise<void>): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1)
    stopping = true
    console.error(`${name}: ${signal}, stopping`)
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`${name}: error while stopping`, err)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
