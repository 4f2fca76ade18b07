/**
 * The SSH launcher against a real sshd on loopback and the account made by
 * scripts/provision-host.sh: the shared launcher contract (sandboxes connect
 * back with CURVE keys the test ROUTER's authority issued), then what is SSH
 * only: the untrusted account, host keys, no orphans, hosts going down and up.
 *
 *   test ROUTER (CURVE server) <──DEALER (issued keys)── sandbox as cellgate-sandbox
 *                                                          ^ forced command
 *   SshLauncher ──ssh2, known_hosts, client key──> sshd (127.0.0.1:port)
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Router } from 'zeromq'
import { decode, sandboxMessageSchema } from '../../protocol/index.ts'
import { silentLogger } from '../../telemetry/logger.ts'
import { describeWith } from '../../test/support/needs.ts'
import { prepareSshAccess, SANDBOX_COMMAND, SANDBOX_USER, sshdMissing, startSshd, testSshLauncher, type RunningSshd, type SshAccess } from '../../test/support/sshd.ts'
import { CurveAuthority } from '../curve-authority.ts'
import { runLauncherContract } from '../../test/support/contracts/launcher.ts'
import { machineHierarchy, PARENT, type Hierarchy } from './cgroup.ts'
import { SshLauncher, remoteEndpoint, type SshLauncherOptions } from './ssh.ts'

const hierarchy = machineHierarchy()


describe('remoteEndpoint', () => {
  it('replaces a wildcard address with ours on the host connection and keeps any other', () => {
    expect(remoteEndpoint('tcp://0.0.0.0:5556', '10.213.1.1')).toBe('tcp://10.213.1.1:5556')
    expect(remoteEndpoint('tcp://*:5556', '::ffff:10.0.0.1')).toBe('tcp://10.0.0.1:5556')
    expect(remoteEndpoint('tcp://[::]:5556', 'fd00::1')).toBe('tcp://[fd00::1]:5556')
    expect(remoteEndpoint('tcp://10.0.0.1:5556', '10.0.0.9')).toBe('tcp://10.0.0.1:5556')
    expect(() => remoteEndpoint('ipc:///tmp/x', '10.0.0.1')).toThrow(/over tcp/)
  })
})

describeWith(sshdMissing(), 'ssh launcher', () => {
  let access: SshAccess
  let sshd: RunningSshd
  let curve: CurveAuthority
  const launchers: SshLauncher[] = []

  beforeAll(async () => {
    access = prepareSshAccess()
    sshd = await startSshd(access)
    curve = await CurveAuthority.start(silentLogger())
  }, 180_000)
  afterEach(async () => {
    await Promise.all(launchers.splice(0).map((launcher) => launcher.close()))
  })
  afterAll(async () => {
    await sshd?.kill()
    curve?.close()
  })

  function launcher(overrides: Partial<SshLauncherOptions> = {}): SshLauncher {
    const made = testSshLauncher(access, curve, { hosts: [{ host: sshd.target, sandboxes: 4 }], ...overrides })
    launchers.push(made)
    return made
  }

  runLauncherContract('ssh', () => launcher(), { routerOptions: () => curve.serverOptions() })

  describe('on the host', () => {
    let router: Router
    beforeAll(async () => {
      router = new Router({ ...curve.serverOptions(), linger: 0, receiveTimeout: 20_000 })
      await router.bind('tcp://127.0.0.1:*')
    })
    afterAll(() => router.close())

    async function launchConnected(ssh: SshLauncher, id: string) {
      const handle = await ssh.launch({ id, endpoint: router.lastEndpoint!, slots: 1 })
      const [from, frame] = await router.receive()
      expect(from!.toString()).toBe(id)
      expect(decode(sandboxMessageSchema, frame!)).toEqual({ type: 'credit', credits: 1 })
      return handle
    }

    it('runs the sandbox code of this tree: provisioning installs it again whenever it changed', () => {
      const repo = fileURLToPath(new URL('../../sandbox', import.meta.url))
      const installed = join(dirname(dirname(SANDBOX_COMMAND)), 'app', 'sandbox')
      const files = readdirSync(repo, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(repo.length))
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) expect(readFileSync(join(installed, file), 'utf8'), file).toBe(readFileSync(join(repo, file), 'utf8'))
    })

    it('runs the sandbox as the untrusted account, with the limits of the sandbox command', async () => {
      const handle = await launchConnected(launcher(), `owner-${process.pid}`)
      expect(handle.host).toBe(sshd.target)
      expect(handle.pid).toBeGreaterThan(0)
      const status = readFileSync(`/proc/${handle.pid}/status`, 'utf8')
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1])
      expect(uid).not.toBe(0)
      expect(readFileSync('/etc/passwd', 'utf8')).toContain(`${SANDBOX_USER}:x:${uid}:`)
      const limits = readFileSync(`/proc/${handle.pid}/limits`, 'utf8')
      expect(limits).toMatch(/Max address space\s+34359738368\s+34359738368/)
      expect(limits).toMatch(/Max open files\s+1024\s+1024/)
    })

    describeWith(typeof hierarchy !== 'string' && hierarchy.version === 1 ? null : 'no cgroup v1 memory hierarchy (the SSH hosts\' bound needs one)', 'cgroups', () => {
      const { memory, pids } = hierarchy as Extract<Hierarchy, { version: 1 }>
      const account = join(memory, PARENT, `ssh-${SANDBOX_USER}`)
      const slotOf = (pid: number): string => /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1]!

      it('runs each sandbox in a cgroup slot of its own, bounded as provisioned, which the account cannot change', async () => {
        const ssh = launcher()
        const handles = [await launchConnected(ssh, `cg-a-${process.pid}`), await launchConnected(ssh, `cg-b-${process.pid}`)]
        const slots = handles.map((handle) => slotOf(handle.pid!))
        for (const slot of slots) expect(slot).toMatch(new RegExp(`^/${PARENT}/ssh-${SANDBOX_USER}/slot-\\d+$`))
        expect(new Set(slots).size).toBe(2)
        const read = (path: string): number => Number(readFileSync(path, 'utf8'))
        for (const slot of slots) {
          expect(read(join(memory, slot, 'memory.limit_in_bytes'))).toBe(3680 * 2 ** 20)
          if (existsSync(join(memory, slot, 'memory.memsw.limit_in_bytes'))) expect(read(join(memory, slot, 'memory.memsw.limit_in_bytes'))).toBe(3680 * 2 ** 20)
          if (pids) expect(read(join(pids, slot, 'pids.max'))).toBe(96)
        }
        expect(read(join(account, 'memory.limit_in_bytes'))).toBeLessThanOrEqual(10 * 3680 * 2 ** 20)
        // What an escaped sandbox could try: raise its bound, leave the account's cgroup, make one of its own.
        const slot = join(memory, slots[0]!)
        for (const attempt of [`echo 1 > ${slot}/memory.limit_in_bytes`, `echo $$ > ${account}/cgroup.procs`, `mkdir ${slot}/mine`]) {
          expect(spawnSync('runuser', ['-u', SANDBOX_USER, '--', 'sh', '-c', attempt]).status, attempt).not.toBe(0)
        }
        handles[0]!.kill()
        await handles[0]!.exited
        await expect.poll(() => readFileSync(join(slot, 'cgroup.procs'), 'utf8')).toBe('')
      })
    })

    it('kill() SIGKILLs the sandbox on its host', async () => {
      const handle = await launchConnected(launcher(), `kill-${process.pid}`)
      handle.kill()
      expect(await handle.exited).toMatchObject({ code: null, signal: 'SIGKILL' })
    })

    it('no orphans: the sandbox ends when its SSH connection drops', async () => {
      const ssh = launcher()
      const handle = await launchConnected(ssh, `orphan-${process.pid}`)
      const pid = handle.pid!
      expect(existsSync(`/proc/${pid}`)).toBe(true)
      await ssh.close() // ends the connection: sshd closes the session, the sandbox's stdin ends
      await handle.exited
      await expect.poll(() => existsSync(`/proc/${pid}`)).toBe(false)
    })

    it('refuses a host whose key is not in known_hosts, and trusts it on first use only when told to', async () => {
      const empty = join(access.dir, `empty-known-hosts-${Date.now()}`)
      writeFileSync(empty, '')
      const strict = launcher({ knownHostsPath: empty })
      await expect(strict.launch({ id: 'never', endpoint: router.lastEndpoint!, slots: 1 })).rejects.toThrow(/no SSH host can take a sandbox/)
      expect(strict.hosts()[0]).toMatchObject({ state: 'down', lastError: expect.stringMatching(/not in .*empty-known-hosts/) })

      const trusting = launcher({ knownHostsPath: empty, trustNewHosts: true })
      await launchConnected(trusting, `tofu-${process.pid}`)
      expect(readFileSync(empty, 'utf8')).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519 `)
    })

    it('refuses a host whose key changed, even when trusting new hosts', async () => {
      const wrong = join(access.dir, `wrong-known-hosts-${Date.now()}`)
      const otherKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIOq4HL+eQL24wn2/uaaBQIhakHStxNEi8AJKGEGAiJJZ'
      writeFileSync(wrong, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${otherKey}\n`)
      const ssh = launcher({ knownHostsPath: wrong, trustNewHosts: true })
      await expect(ssh.launch({ id: 'never', endpoint: router.lastEndpoint!, slots: 1 })).rejects.toThrow(/no SSH host/)
      expect(ssh.hosts()[0]!.lastError).toMatch(/does not match/)
    })

    it('a host whose sshd dies is down, its sandboxes end, and it is up again when sshd is back', async () => {
      const ssh = launcher()
      const handle = await launchConnected(ssh, `down-${process.pid}`)
      await sshd.kill()
      const exit = await handle.exited
      expect(exit.reason).toMatch(/SSH session|killed|exited/)
      await expect.poll(() => ssh.hosts()[0]!.state).toBe('down')
      await expect(ssh.launch({ id: 'while-down', endpoint: router.lastEndpoint!, slots: 1 })).rejects.toThrow(/no SSH host/)
      const up = new Promise<void>((resolve) => ssh.onHostUp(resolve))
      await sshd.restart()
      await up
      expect(ssh.hosts()[0]!.state).toBe('up')
      await launchConnected(ssh, `rejoined-${process.pid}`)
    })
  })
})
