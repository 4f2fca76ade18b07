/**
 * The dispatcher as a process (`cellgate dispatcher`): starts it with a
 * sandbox pool, local or over SSH when hosts are configured, and gives back
 * the stop that kills the sandboxes and closes the sockets.
 */
import type { Config } from '../config/schema.ts'
import { startDispatcher, type Dispatcher } from './dispatcher.ts'
import { CurveAuthority } from './curve-authority.ts'
import { LocalLauncher } from './launchers/local.ts'
import { SshLauncher, sshLauncherOptions } from './launchers/ssh.ts'

/**
 * Starts the dispatcher and its pool: local children, or sandboxes over SSH
 * with CURVE when config.ssh.hosts is set. The returned stop() kills the
 * sandboxes and closes the sockets and SSH connections.
 *
 * @example
 *   const { stop } = await runDispatcher(loadConfig(process.env))
 */
export async function runDispatcher(config: Config): Promise<{ dispatcher: Dispatcher; stop: () => Promise<void> }> {
  const log = (line: string): void => void process.stderr.write(`[dispatcher] ${line}\n`)
  const overSsh = config.ssh.hosts.length > 0
  const curve = overSsh ? await CurveAuthority.start(log) : undefined
  const launcher = curve ? new SshLauncher(sshLauncherOptions(config, curve, log)) : new LocalLauncher()
  const poolSize = launcher instanceof SshLauncher ? launcher.capacity : config.pool.size
  let dispatcher: Dispatcher
  try {
    dispatcher = await startDispatcher(config, launcher, { log, curve, poolSize })
  } catch (err) {
    await launcher.close()
    curve?.close()
    throw err
  }
  const { server, sandbox } = dispatcher.endpoints
  const where = overSsh ? `over SSH on ${config.ssh.hosts.length} host(s), CURVE` : 'local'
  log(
    `boot ${dispatcher.bootId}: servers connect to ${server}, sandboxes to ${sandbox}; ` +
      `pool of ${poolSize} ${where} sandbox(es) × ${config.pool.slots} slot(s)`,
  )
  const stop = async (): Promise<void> => {
    await dispatcher.close()
    await launcher.close()
    curve?.close()
  }
  return { dispatcher, stop }
}
