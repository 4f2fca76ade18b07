/**
 * A real OpenSSH server for the SSH launcher tests: each sshd gets its own
 * temp host key and config and listens on an address and port the test
 * chooses (loopback, or a test network namespace, see netns.ts). Logins go
 * to the untrusted account provisioned by scripts/provision-host.sh with a
 * client key shared by the test files of this machine, so parallel test
 * files provisioning at once agree on authorized_keys.
 *
 *   test ──ssh2 (client key, known_hosts)──> sshd (-D -f own config) ──forced command──> sandbox as cellgate-sandbox
 *
 * Needs root (sshd, useradd) and /usr/sbin/sshd
 * (`apt-get install -y openssh-server`); `sshdMissing()` says why not.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { appendFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, createServer } from 'node:net'
import { silentLogger } from '../../telemetry/logger.ts'
import type { CurveAuthority } from '../../worker/curve-authority.ts'
import { SshLauncher, type SshLauncherOptions } from '../../worker/launchers/ssh.ts'
import { killTree } from './processes.ts'

export const SSHD = '/usr/sbin/sshd'
export const SANDBOX_USER = 'cellgate-sandbox'
export const SANDBOX_COMMAND = '/opt/cellgate/bin/cellgate-sandbox'
const PROVISION = fileURLToPath(new URL('../../scripts/provision-host.sh', import.meta.url))

/** Why the SSH tests cannot run here, or null when they can. */
export function sshdMissing(): string | null {
  if (!existsSync(SSHD)) return `${SSHD} not installed (apt-get install -y openssh-server)`
  if (process.getuid?.() !== 0) return 'not root (sshd and the untrusted account need root)'
  return null
}

export interface SshAccess {
  /** Private key the dispatcher logs in with. */
  keyPath: string
  /** known_hosts the launcher checks; startSshd adds each server's key. */
  knownHostsPath: string
  dir: string
  user: string
}

/**
 * Provisions the untrusted account (idempotent) for the shared test client
 * key and makes a temp dir with an empty known_hosts.
 *
 * @example
 *   const access = prepareSshAccess()
 *   const sshd = await startSshd(access)
 *   new SshLauncher({ hosts: [{ host: sshd.target }], keyPath: access.keyPath, knownHostsPath: access.knownHostsPath, … })
 */
export function prepareSshAccess(): SshAccess {
  const keyPath = sharedClientKey()
  execFileSync('bash', [PROVISION, '--authorized-key', `${keyPath}.pub`], { stdio: ['ignore', 'ignore', 'inherit'] })
  const dir = mkdtempSync(join(tmpdir(), 'cellgate-ssh-'))
  const knownHostsPath = join(dir, 'known_hosts')
  writeFileSync(knownHostsPath, '')
  return { keyPath, knownHostsPath, dir, user: SANDBOX_USER }
}

function sharedClientKey(): string {
  const dir = join(tmpdir(), 'cellgate-test-ssh')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const keyPath = join(dir, 'id_ed25519')
  if (existsSync(`${keyPath}.pub`)) return keyPath
  // Generated aside, then linked into place: a test file racing this one keeps whichever came first.
  const scratch = mkdtempSync(join(dir, 'new-'))
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cellgate-test-dispatcher', '-f', join(scratch, 'key')])
  try {
    linkSync(join(scratch, 'key'), keyPath)
    linkSync(join(scratch, 'key.pub'), `${keyPath}.pub`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  return keyPath
}

export interface SshdOptions {
  address?: string
  /** Default: a free port on the address (loopback), else 22. */
  port?: number
  /** Run inside this network namespace (`nsenter --net`). */
  netns?: string
}

export interface RunningSshd {
  address: string
  port: number
  /** `user@address:port`, as the launcher's hosts option takes it. */
  target: string
  /** Stops the listener and every session it serves (the sessions' sandboxes see their stdin close). */
  kill(): Promise<void>
  /** Starts it again on the same address, port and host key. */
  restart(): Promise<void>
}

/**
 * Starts sshd in the foreground with its own config; resolves once it listens.
 * Its host key goes into access.knownHostsPath.
 */
export async function startSshd(access: SshAccess, options: SshdOptions = {}): Promise<RunningSshd> {
  const address = options.address ?? '127.0.0.1'
  const port = options.port ?? (options.netns ? 22 : await freePort(address))
  const dir = mkdtempSync(join(access.dir, 'sshd-'))
  const hostKey = join(dir, 'host_ed25519')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', hostKey])
  const name = port === 22 ? address : `[${address}]:${port}`
  appendFileSync(access.knownHostsPath, `${name} ${readFileSync(`${hostKey}.pub`, 'utf8').trim()}\n`)
  const config = join(dir, 'sshd_config')
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      // Without PAM, as many containers run sshd: the limits come from the sandbox command, not limits.d.
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      `AllowUsers ${access.user}`,
      'MaxSessions 32',
      'MaxStartups 64',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  )
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }) // privilege separation directory
  // nsenter, not `ip netns exec`: that mounts a sysfs of its own, without the cgroup hierarchies the sandboxes join.
  const command = options.netns ? ['nsenter', [`--net=/run/netns/${options.netns}`, SSHD, '-D', '-e', '-f', config]] as const : [SSHD, ['-D', '-e', '-f', config]] as const

  let child: ChildProcess | null = null
  const start = async (): Promise<void> => {
    const started = spawn(command[0], [...command[1]], { stdio: ['ignore', 'ignore', 'pipe'] })
    child = started
    let log = ''
    started.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000)
    })
    await waitForPort(address, port, () => (started.exitCode !== null ? `sshd exited: ${log}` : null))
  }
  await start()
  return {
    address,
    port,
    target: `${access.user}@${address}:${port}`,
    kill: async () => {
      const running = child
      if (!running || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      // The listener, its per-connection sshd processes and what they run: as on a host that goes down.
      killTree(running.pid!)
      await exited
    },
    restart: start,
  }
}

async function freePort(address: string): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPort(address: string, port: number, failed: () => string | null): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const why = failed()
    if (why) throw new Error(why)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, address)
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`sshd on ${address}:${port} did not start listening`)
}

/** SSH timings short enough that a test sees a host go down and come back within seconds. */
const FAST_CONNECTION = { keepaliveIntervalMs: 500, keepaliveCountMax: 2, readyTimeoutMs: 5000, backoffBaseMs: 100, backoffMaxMs: 1000 }

/**
 * An SSH launcher onto the test account with the test keys, fast timings
 * and a silent log, unless the options say otherwise.
 *
 * @example
 *   const launcher = testSshLauncher(access, curve, { hosts: [{ host: sshd.target, sandboxes: 4 }] })
 */
export function testSshLauncher(access: SshAccess, curve: CurveAuthority, options: Partial<SshLauncherOptions> & Pick<SshLauncherOptions, 'hosts'>): SshLauncher {
  return new SshLauncher({
    keyPath: access.keyPath,
    knownHostsPath: access.knownHostsPath,
    command: SANDBOX_COMMAND,
    curve,
    connection: FAST_CONNECTION,
    log: silentLogger(),
    ...options,
  })
}
