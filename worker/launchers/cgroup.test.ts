/**
 * The OS bound on local sandbox processes, read back from the real cgroup
 * files (as root, on a machine with a memory controller), and a real sandbox
 * the kernel's OOM killer ends for going over it.
 *
 *   LocalLauncher ──spawn, pid into cgroup.procs──> sandbox child ──stdin: boot line
 *        <mount>/cellgate/<launcher>/<sandbox id>/  memory and pids limits
 *   test ──SIGUSR2──> child allocates outside any isolate ──> OOM kill ──> exited: "over its memory bound"
 *        ──> dispatcher: its running cell ends lost saying so, the pool launches a replacement
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../telemetry/logger.ts'
import { startTestDispatcher, TestServer } from '../../test/support/dispatcher.ts'
import { loopsForever, succeeds } from '../../test/support/fixtures/cells.ts'
import { testJob } from '../../test/support/jobs.ts'
import { capturingLogger } from '../../test/support/logs.ts'
import { describeWith } from '../../test/support/needs.ts'
import { findHierarchy, machineHierarchy, PARENT, type Hierarchy } from './cgroup.ts'
import { LocalLauncher } from './local.ts'
import { DEFAULT_SIZING, sandboxBound } from './sandbox-bound.ts'

const PRINT_AND_WAIT = 'test/support/fixtures/print-and-wait.ts'
const MB = 2 ** 20

describe('findHierarchy', () => {
  const v1 = [
    '30 25 0:27 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
    '31 25 0:28 / /sys/fs/cgroup/pids rw,relatime shared:10 - cgroup cgroup rw,pids',
  ]
  const v2 = '29 25 0:26 / /sys/fs/cgroup/unified rw,relatime shared:8 - cgroup2 cgroup2 rw'
  const subtree = (enabled: string) => (path: string) => (path === '/sys/fs/cgroup/unified/cgroup.subtree_control' ? enabled : null)

  it('takes cgroup v2 when its top enables the memory controller for its children', () => {
    expect(findHierarchy([v2, ...v1].join('\n'), subtree('cpu memory pids\n'))).toEqual({ version: 2, root: '/sys/fs/cgroup/unified', pids: true })
    expect(findHierarchy(v2, subtree('memory\n'))).toEqual({ version: 2, root: '/sys/fs/cgroup/unified', pids: false })
  })

  it('takes the v1 memory (and pids) hierarchies when v2 has no memory controller, as on these machines', () => {
    expect(findHierarchy([v2, ...v1].join('\n'), subtree('\n'))).toEqual({ version: 1, memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' })
    expect(findHierarchy(v1[0]!, subtree(''))).toEqual({ version: 1, memory: '/sys/fs/cgroup/memory', pids: null })
  })

  it('says why there is none', () => {
    expect(findHierarchy(`${v2}\n${v1[1]}`, subtree('pids'))).toMatch(/no cgroup memory controller/)
  })
})

describe('sandboxBound', () => {
  it('makes room for every slot at the most a cell may ask for and for one client\'s sessions, unless configured', () => {
    // 128 idle + 4 × 768 + 5 × 96
    expect(sandboxBound(4, DEFAULT_SIZING)).toEqual({ memoryBytes: 3680 * MB, pids: 96 })
    expect(sandboxBound(1, { ...DEFAULT_SIZING, sessions: 0 })).toEqual({ memoryBytes: 896 * MB, pids: 72 })
    expect(sandboxBound(4, { ...DEFAULT_SIZING, memoryMb: 300 })).toEqual({ memoryBytes: 300 * MB, pids: 96 })
  })
})

/** The sandbox's cgroup in each hierarchy, as /proc/<pid>/cgroup names it, as directories. */
function cgroupDirs(pid: number, hierarchy: Hierarchy): { memory: string; pids: string | null } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')
  const path = (controller: string | null): string => lines.find((line) => line.split(':')[1] === (controller ?? ''))!.split(':')[2]!
  if (hierarchy.version === 2) return { memory: join(hierarchy.root, path(null)), pids: hierarchy.pids ? join(hierarchy.root, path(null)) : null }
  return { memory: join(hierarchy.memory, path('memory')), pids: hierarchy.pids ? join(hierarchy.pids, path('pids')) : null }
}

function limits(pid: number, hierarchy: Hierarchy): { memory: number; memsw?: number; pids?: number } {
  const { memory, pids } = cgroupDirs(pid, hierarchy)
  const read = (path: string): number => Number(readFileSync(path, 'utf8'))
  return {
    memory: read(join(memory, hierarchy.version === 2 ? 'memory.max' : 'memory.limit_in_bytes')),
    ...(hierarchy.version === 1 && existsSync(join(memory, 'memory.memsw.limit_in_bytes')) ? { memsw: read(join(memory, 'memory.memsw.limit_in_bytes')) } : {}),
    ...(pids ? { pids: read(join(pids, 'pids.max')) } : {}),
  }
}

const hierarchy = machineHierarchy()
const missing = process.getuid?.() !== 0 ? 'not root (cgroups need root)' : typeof hierarchy === 'string' ? hierarchy : null

describeWith(missing, 'sandbox cgroups', () => {
  const machine = hierarchy as Hierarchy
  const memoryRoot = machine.version === 2 ? machine.root : machine.memory
  const launchers: LocalLauncher[] = []
  afterEach(async () => {
    await Promise.all(launchers.splice(0).map((launcher) => launcher.close()))
  })
  function launcher(options: Partial<ConstructorParameters<typeof LocalLauncher>[0]> = {}): LocalLauncher {
    const made = new LocalLauncher({ entry: PRINT_AND_WAIT, log: silentLogger(), ...options })
    launchers.push(made)
    return made
  }

  it('puts every sandbox process in a cgroup of its own whose limits read back as sized, gone once the process has exited', async () => {
    const local = launcher()
    const one = await local.launch({ id: `cg-one-${process.pid}`, endpoint: 'tcp://127.0.0.1:1', slots: 1 })
    const four = await local.launch({ id: `cg-four-${process.pid}`, endpoint: 'tcp://127.0.0.1:1', slots: 4 })
    const dirs = [cgroupDirs(one.pid!, machine), cgroupDirs(four.pid!, machine)]
    expect(dirs[0]!.memory).toMatch(new RegExp(`^${memoryRoot}/${PARENT}/${process.pid}-[0-9a-f]+/cg-one-${process.pid}$`))
    expect(dirs[1]!.memory).toMatch(new RegExp(`/${PARENT}/${process.pid}-[0-9a-f]+/cg-four-${process.pid}$`))
    if (machine.pids) for (const { pids } of dirs) expect(pids).toMatch(new RegExp(`/${PARENT}/${process.pid}-[0-9a-f]+/cg-`))

    for (const [handle, slots] of [[one, 1], [four, 4]] as const) {
      const { memoryBytes, pids } = sandboxBound(slots, DEFAULT_SIZING)
      const read = limits(handle.pid!, machine)
      expect(read.memory).toBe(memoryBytes)
      if (read.memsw !== undefined) expect(read.memsw).toBe(memoryBytes) // swap does not dodge it
      if (machine.pids) expect(read.pids).toBe(pids)
    }

    one.kill()
    await one.exited
    for (const dir of Object.values(dirs[0]!)) if (dir) expect(existsSync(dir)).toBe(false)
    expect(existsSync(dirs[1]!.memory)).toBe(true)
    await local.close()
    await four.exited
    expect(existsSync(dirname(dirs[1]!.memory))).toBe(false)
  })

  it('removes what a launcher whose process is gone left, at its first launch', async () => {
    const dead = spawnSync('true').pid
    const parents = (machine.version === 2 ? [machine.root] : [machine.memory, machine.pids]).flatMap((root) => (root ? [join(root, PARENT)] : []))
    const stale = parents.map((parent) => join(parent, `${dead}-0badc0de`, 'sb-left-behind'))
    for (const dir of stale) mkdirSync(dir, { recursive: true })
    const handle = await launcher().launch({ id: `cg-stale-${process.pid}`, endpoint: 'tcp://127.0.0.1:1', slots: 1 })
    for (const dir of stale) expect(existsSync(dirname(dir))).toBe(false)
    handle.kill()
  })

  it('a sandbox that goes over its bound is killed by the OS; its running cell ends lost saying so, and the pool serves the next job', async () => {
    const local = launcher({ entry: 'test/support/fixtures/hoards-on-signal.ts', sizing: { ...DEFAULT_SIZING, memoryMb: 256 } })
    const dispatcher = await startTestDispatcher(local, { pool: { size: 1, slots: 2 } })
    const server = await TestServer.connect(dispatcher.endpoints.server)
    try {
      const first = testJob(succeeds)
      await server.send({ type: 'submit', job: first })
      expect((await server.waitForEnd(first.jobId)).end.status).toBe('done')
      const [sandbox] = dispatcher.pool.list()
      const pid = sandbox!.handle.pid!
      expect(limits(pid, machine).memory).toBe(256 * MB)

      const victim = testJob(loopsForever, { limits: { wallMs: 60_000, cpuMs: 60_000 } })
      await server.send({ type: 'submit', job: victim })
      await server.waitForStarted(victim.jobId)
      process.kill(pid, 'SIGUSR2') // the sandbox process allocates outside its isolates until something stops it
      const { end } = await server.waitForEnd(victim.jobId)
      expect(end).toMatchObject({
        status: 'lost',
        error: { message: expect.stringMatching(/sandbox process running this cell died \(killed by SIGKILL: it went over its memory bound of 256 MB/) },
      })

      const next = testJob(succeeds)
      await server.send({ type: 'submit', job: next })
      expect((await server.waitForEnd(next.jobId)).end.status).toBe('done')
      expect(dispatcher.state()).toMatchObject({ sandboxes: 1, connected: 1 })
      const [replacement] = dispatcher.pool.list()
      expect(replacement!.handle.pid).not.toBe(pid)
      expect(limits(replacement!.handle.pid!, machine).memory).toBe(256 * MB)
    } finally {
      server.close()
      await dispatcher.close()
    }
  })
})

describe('without a memory controller', () => {
  it('runs the sandboxes without an OS bound and says so once, at warn', async () => {
    const { logger, records } = capturingLogger('dispatcher')
    const local = new LocalLauncher({ entry: PRINT_AND_WAIT, log: logger, hierarchy: 'no cgroup memory controller (test)' })
    const handles = [
      await local.launch({ id: 'cg-none-1', endpoint: 'tcp://127.0.0.1:1', slots: 1 }),
      await local.launch({ id: 'cg-none-2', endpoint: 'tcp://127.0.0.1:1', slots: 1 }),
    ]
    for (const handle of handles) expect(readFileSync(`/proc/${handle.pid}/cgroup`, 'utf8')).not.toContain(`/${PARENT}/`)
    await local.close()
    const warnings = records.filter((record) => record.component === 'launcher' && record.level === 40)
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringMatching(/without an OS memory bound/) })])
    expect(warnings[0]!.reason).toBe(process.getuid?.() === 0 ? 'no cgroup memory controller (test)' : 'not root')
  })
})
