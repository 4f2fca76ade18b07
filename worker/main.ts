/**
 * The dispatcher as a process (`cellgate dispatcher`): makes the process's
 * logger and metrics registry (unless given them), starts the dispatcher with
 * a sandbox pool, local or over SSH when hosts are configured, and gives back
 * the stop that kills the sandboxes and closes the sockets.
 */
import type { Registry } from 'prom-client'
import type { Config } from '../config/schema.ts'
import { createLogger, type Logger } from '../telemetry/logger.ts'
import { createRegistry } from '../telemetry/metrics.ts'
import { startDispatcher, type Dispatcher } from './dispatcher.ts'
import { CurveAuthority } from './curve-authority.ts'
import { LocalLauncher } from './launchers/local.ts'
import { boundSizing } from './launchers/sandbox-bound.ts'
import { SshLauncher, sshLauncherOptions } from './launchers/ssh.ts'

export interface RunDispatcherOptions {
  /** The process's logger (bin/cellgate.ts shares it with its signal handling). Default: createLogger('dispatcher', config.log). */
  log?: Logger
  /** Default: createRegistry('dispatcher'). */
  registry?: Registry
}

/**
 * Starts the dispatcher and its pool: local children, or sandboxes over SSH
 * with CURVE when config.ssh.hosts is set. The returned stop() kills the
 * sandboxes and closes the sockets and SSH connections.
 *
 * @example
 *   const { stop } = await runDispatcher(loadConfig(process.env))
 */
export async function runDispatcher(config: Config, options: RunDispatcherOptions = {}): Promise<{ dispatcher: Dispatcher; stop: () => Promise<void> }> {
  const log = options.log ?? createLogger('dispatcher', config.log)
  const registry = options.registry ?? createRegistry('dispatcher')
  const overSsh = config.ssh.hosts.length > 0
  const curve = overSsh ? await CurveAuthority.start(log) : undefined
  const launcher = curve ? new SshLauncher(sshLauncherOptions(config, curve, log)) : new LocalLauncher({ log, sizing: boundSizing(config) })
  const poolSize = launcher instanceof SshLauncher ? launcher.capacity : config.pool.size
  let dispatcher: Dispatcher
  try {
    dispatcher = await startDispatcher(config, launcher, { log, registry, curve, poolSize })
  } catch (err) {
    await launcher.close()
    curve?.close()
    throw err
  }
  log.child({ component: 'dispatcher' }).info(
    {
      bootId: dispatcher.bootId,
      serverEndpoint: dispatcher.endpoints.server,
      sandboxEndpoint: dispatcher.endpoints.sandbox,
      metrics: dispatcher.endpoints.metrics,
      launcher: launcher.name,
      hosts: config.ssh.hosts.length,
      sandboxes: poolSize,
      slots: config.pool.slots,
    },
    'dispatcher started',
  )
  const stop = async (): Promise<void> => {
    await dispatcher.close()
    await launcher.close()
    curve?.close()
  }
  return { dispatcher, stop }
}
