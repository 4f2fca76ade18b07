/**
 * Sandbox pools over SSH, for real: a real sshd (test/support/sshd.ts), the
 * untrusted account made by scripts/provision-host.sh, the dispatcher in
 * this process with the SSH launcher and CURVE, and the test playing the web
 * server with a ZeroMQ DEALER (a real server where the store matters).
 *
 *   loopback:  server (HTTP, SQLite) ──DEALER──> dispatcher ──ssh2──> sshd 127.0.0.1 ──> sandbox (cellgate-sandbox)
 *                                                 ROUTER (CURVE) <──DEALER, issued keys──┘
 *              rogue DEALER (keys not issued) ──CURVE hello──> refused in the handshake
 *
 *   two hosts: dispatcher (root namespace, sandbox ROUTER on 0.0.0.0)
 *                ├─ssh2─> sshd 10.213.1.2 (netns cgtest1) ──> 2 sandboxes ──> tcp://10.213.1.1:port
 *                └─ssh2─> sshd 10.213.2.2 (netns cgtest2) ──> 2 sandboxes ──> tcp://10.213.2.1:port
 *              host 1's sshd killed under load ──> its jobs end lost (or run again), host 2 carries on
 *              host 1's sshd back ──> host up, new sandboxes there, jobs served there again
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { curveKeyPair, Dealer } from 'zeromq'
import { loadConfig } from '../config/load.ts'
import type { DispatcherMessage, JobSpec, MessageOf } from '../protocol/index.ts'
import { startServer, type RunningServer } from '../server/main.ts'
import { SQLITE_FILE } from '../server/store/sqlite.ts'
import { tempDir } from './support/temp-dir.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { metricValue } from '../telemetry/metrics.ts'
import { CurveAuthority } from '../worker/curve-authority.ts'
import type { Dispatcher } from '../worker/dispatcher.ts'
import type { SshLauncher, SshHostConfig } from '../worker/launchers/ssh.ts'
import { testJob } from './support/jobs.ts'
import { startTestDispatcher, TestServer } from './support/dispatcher.ts'
import { describeWith } from './support/needs.ts'
import { createTestHosts, netnsMissing, removeTestHosts } from './support/netns.ts'
import { prepareSshAccess, SANDBOX_USER, sshdMissing, startSshd, testSshLauncher, type RunningSshd, type SshAccess } from './support/sshd.ts'

const PROVISION = fileURLToPath(new URL('../scripts/provision-host.sh', import.meta.url))
const POLL = { timeout: 60_000, interval: 50 }

type End = MessageOf<DispatcherMessage, 'end'>

interface SshPool {
  dispatcher: Dispatcher
  launcher: SshLauncher
  curve: CurveAuthority
  server: TestServer
  /** Messages the dispatcher dropped for this reason so far. */
  dropped(reason: string): Promise<number>
  close(): Promise<void>
}

/** The dispatcher as `cellgate dispatcher` runs it with SSH hosts: CURVE authority, SSH launcher, pool size = the hosts' sandboxes. */
async function startSshPool(access: SshAccess, hosts: SshHostConfig[], sandboxEndpoint?: string): Promise<SshPool> {
  const curve = await CurveAuthority.start(silentLogger())
  const launcher = testSshLauncher(access, curve, { hosts })
  const registry = new Registry()
  const dispatcher = await startTestDispatcher(launcher, { pool: { slots: 2 }, sandboxEndpoint }, { curve, poolSize: launcher.capacity, registry })
  const server = await TestServer.connect(dispatcher.endpoints.server)
  return {
    dispatcher,
    launcher,
    curve,
    server,
    dropped: (reason) => metricValue(registry, 'cellgate_dispatcher_messages_dropped_total', { reason }),
    close: async () => {
      server.close()
      await dispatcher.close()
      await launcher.close()
      curve.close()
    },
  }
}

function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
}

/** Whether the untrusted account can read the file (runs `cat` as that account). */
function sandboxAccountCanRead(path: string): boolean {
  return spawnSync('runuser', ['-u', SANDBOX_USER, '--', 'cat', path], { stdio: 'ignore' }).status === 0
}

/** Submits the jobs and waits for every one to end. */
async function runAll(server: TestServer, jobs: JobSpec[]): Promise<End[]> {
  const from = server.received.length
  await server.send(...jobs.map((job) => ({ type: 'submit' as const, job })))
  return Promise.all(jobs.map((job) => server.waitForEnd(job.jobId, from)))
}

describeWith(sshdMissing(), 'ssh pool on loopback', () => {
  let access: SshAccess
  let sshd: RunningSshd
  let pool: SshPool

  beforeAll(async () => {
    access = prepareSshAccess()
    sshd = await startSshd(access)
    pool = await startSshPool(access, [{ host: sshd.target, sandboxes: 1 }])
  }, 180_000)
  afterAll(async () => {
    await pool?.close()
    await sshd?.kill()
  })

  it('runs a cell as the untrusted account, which cannot read the store or the config of the server', async () => {
    // A server as an operator would run it: config file and data directory under a directory others may enter.
    const tmp = tempDir('cellgate-ssh-server-')
    chmodSync(tmp.dir, 0o755)
    const configPath = join(tmp.dir, 'cellgate.config.json')
    const dataDir = join(tmp.dir, 'data')
    writeFileSync(configPath, JSON.stringify({ server: { host: '127.0.0.1', port: 0, dataDir }, dispatcher: { endpoint: pool.dispatcher.endpoints.server } }), { mode: 0o644 })
    let server: RunningServer | undefined
    try {
      server = await startServer(loadConfig({ CELLGATE_CONFIG: configPath }), { logger: silentLogger(), webRoot: tmp.dir })
      const res = await fetch(`${server.url}/api/v1/cells?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: '6 * 7' }) })
      const job = (await res.json()) as { id: string; status: string; result: { text: string } }
      expect(job).toMatchObject({ status: 'done', result: { text: '42' } })

      // The process that ran it belongs to the untrusted account.
      const record = await server.store.getJob(job.id)
      const sandbox = pool.dispatcher.pool.get(record!.sandboxId!)!
      expect(sandbox.handle.host).toBe(sshd.target)
      const uid = Number(execFileSync('id', ['-u', SANDBOX_USER], { encoding: 'utf8' }))
      expect(uid).not.toBe(0)
      expect(uidOf(sandbox.handle.pid!)).toBe(uid)

      // The store is the server's alone (0700 directory, 0600 file) from the start.
      const storeFile = join(dataDir, SQLITE_FILE)
      expect(readFileSync(storeFile).length).toBeGreaterThan(0)
      expect(sandboxAccountCanRead(storeFile)).toBe(false)
      // The config file an operator wrote 0644 is readable until the host is provisioned to protect it.
      expect(sandboxAccountCanRead(configPath)).toBe(true)
      execFileSync('bash', [PROVISION, '--protect', configPath, '--protect', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] })
      expect(sandboxAccountCanRead(configPath)).toBe(false)
      expect(sandboxAccountCanRead(storeFile)).toBe(false)
      // Root (the server's user here) still can.
      expect(JSON.parse(readFileSync(configPath, 'utf8')).server.dataDir).toBe(dataDir)
    } finally {
      await server?.close()
      tmp.remove()
    }
  })

  it('refuses a sandbox whose CURVE key it did not issue: it gets no work and nothing it sends arrives', async () => {
    const { dispatcher, curve, server } = pool
    const serverKey = curve.serverOptions().curvePublicKey
    const refusedBefore = curve.refused
    const unknownBefore = await pool.dropped('unknown-sandbox')
    const job = testJob('7 * 6')
    const usage = { cpuMs: 0, wallMs: 0, heapBytes: 0, outputBytes: 0 }

    // Knows the dispatcher's public key, but holds a key pair of its own making.
    const { publicKey, secretKey } = curveKeyPair()
    const rogue = new Dealer({ routingId: 'rogue', curveServerKey: serverKey, curvePublicKey: publicKey, curveSecretKey: secretKey, linger: 0, receiveTimeout: 0 })
    // The control: keys the dispatcher issued, under an id it never launched: gets through CURVE, then is dropped as unknown.
    const issued = curve.issue('issued-but-never-launched')
    const control = new Dealer({ routingId: 'issued-but-never-launched', curveServerKey: serverKey, curvePublicKey: issued.publicKey, curveSecretKey: issued.secretKey, linger: 0 })
    try {
      rogue.connect(dispatcher.endpoints.sandbox)
      await rogue.send([JSON.stringify({ type: 'credit', credits: 8 }), JSON.stringify({ type: 'end', jobId: job.jobId, status: 'done', result: { text: '666' }, usage })])
      await expect.poll(() => curve.refused, POLL).toBeGreaterThan(refusedBefore)
      control.connect(dispatcher.endpoints.sandbox)
      await control.send(JSON.stringify({ type: 'credit', credits: 1 }))
      await expect.poll(() => pool.dropped('unknown-sandbox'), POLL).toBe(unknownBefore + 1)

      const [end] = await runAll(server, [job])
      expect(end!.end).toMatchObject({ status: 'done', result: { text: '42' } })
      // Only the control's credit reached the dispatcher's logic; the rogue got nothing to run.
      expect(await pool.dropped('unknown-sandbox')).toBe(unknownBefore + 1)
      expect(dispatcher.pool.get('rogue')).toBeUndefined()
      await expect(rogue.receive()).rejects.toMatchObject({ code: 'EAGAIN' })
    } finally {
      curve.revoke(issued.publicKey)
      rogue.close()
      control.close()
    }
  })
})

describeWith(sshdMissing() ?? netnsMissing(), 'ssh pool across two hosts (network namespaces)', () => {
  let access: SshAccess
  const sshds: RunningSshd[] = []
  let pool: SshPool
  /** Sandbox id -> host, as the workers reports show them. */
  const hostOf = new Map<string, string>()

  beforeAll(async () => {
    access = prepareSshAccess()
    for (const host of createTestHosts(2)) sshds.push(await startSshd(access, { address: host.address, netns: host.netns }))
    // A wildcard sandbox endpoint: each host is told our address on its own SSH connection (10.213.N.1).
    pool = await startSshPool(access, sshds.map((sshd) => ({ host: sshd.target, sandboxes: 2 })), 'tcp://0.0.0.0:*')
  }, 180_000)
  afterAll(async () => {
    await pool?.close()
    for (const sshd of sshds) await sshd.kill()
    removeTestHosts()
  })

  /** Waits until every sandbox the hosts that are up can run is connected, and notes where each runs. */
  async function settled(connected: number): Promise<void> {
    await expect.poll(() => pool.dispatcher.state().connected, POLL).toBe(connected)
    for (const sandbox of (await pool.server.workers()).sandboxes) hostOf.set(sandbox.id, sandbox.host)
  }

  function hostsThatRan(ends: End[]): Set<string> {
    const hosts = new Set<string>()
    for (const end of ends) {
      const started = pool.server.about(end.jobId).find((m) => m.type === 'started')
      if (started) hosts.add(hostOf.get(started.sandboxId)!)
    }
    return hosts
  }

  it('spreads jobs over both hosts', async () => {
    await settled(4)
    const workers = await pool.server.workers()
    expect(workers.hosts.map(({ host, state, sandboxes }) => ({ host, state, sandboxes }))).toEqual(sshds.map((sshd) => ({ host: sshd.target, state: 'up', sandboxes: 2 })))
    // 8 jobs for 8 free slots: each sandbox takes two.
    const ends = await runAll(pool.server, Array.from({ length: 8 }, () => testJob('await new Promise((resolve) => setTimeout(resolve, 100)); 1')))
    expect(ends.map((end) => end.end.status)).toEqual(Array(8).fill('done'))
    expect(hostsThatRan(ends)).toEqual(new Set(sshds.map((sshd) => sshd.target)))
  })

  it("ends every job when one host's sshd is killed under load; the other carries on; the host rejoins", async () => {
    const [lost, kept] = sshds as [RunningSshd, RunningSshd]
    const jobs = Array.from({ length: 40 }, () => testJob('await new Promise((resolve) => setTimeout(resolve, 150)); 1'))
    const from = pool.server.received.length
    const ending = runAll(pool.server, jobs)
    // Kill it once it is running jobs: its sessions and their sandboxes go with it.
    await pool.server.waitFor((m) => m.type === 'started' && hostOf.get(m.sandboxId) === lost.target, from)
    await lost.kill()
    const ends = await ending

    const statuses = new Set(ends.map((end) => end.end.status))
    expect([...statuses].every((status) => status === 'done' || status === 'lost')).toBe(true)
    for (const end of ends.filter((e) => e.end.status === 'lost')) expect(end.end.error?.name).toBe('SandboxLost')
    expect(ends.filter((end) => end.end.status === 'done').length).toBeGreaterThan(0)
    const down = (await pool.server.workers()).hosts.find((host) => host.host === lost.target)
    expect(down).toMatchObject({ state: 'down', sandboxes: 0, lastError: expect.any(String) })

    // The other host serves everything meanwhile.
    const meanwhile = await runAll(pool.server, Array.from({ length: 4 }, () => testJob('2')))
    expect(meanwhile.map((end) => end.end.status)).toEqual(Array(4).fill('done'))
    expect(hostsThatRan(meanwhile)).toEqual(new Set([kept.target]))

    // Back: the host is up and gets new sandboxes (without waiting out the pool's retry delay), and serves jobs again.
    const before = new Set(hostOf.keys())
    await lost.restart()
    await settled(4)
    const rejoined = (await pool.server.workers()).sandboxes.filter((sandbox) => sandbox.host === lost.target)
    expect(rejoined).toHaveLength(2)
    for (const sandbox of rejoined) expect(before.has(sandbox.id)).toBe(false)
    const after = await runAll(pool.server, Array.from({ length: 8 }, () => testJob('await new Promise((resolve) => setTimeout(resolve, 100)); 3')))
    expect(after.map((end) => end.end.status)).toEqual(Array(8).fill('done'))
    expect(hostsThatRan(after)).toEqual(new Set([lost.target, kept.target]))
  })
})
