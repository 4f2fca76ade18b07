/**
 * The OS bound on each local sandbox process: a cgroup of its own with a
 * memory and a pids limit, the backstop for memory no isolate limit counts
 * (DESIGN.md, Limits). cgroup v2 when the unified tree lets its children use
 * the memory controller, else the v1 memory hierarchy (and the v1 pids one
 * when mounted), found once from /proc/self/mountinfo.
 *
 *   <mount>/cellgate/<dispatcher pid>-<random>/<sandbox id>/
 *       memory.max (+ memory.swap.max 0)          v2, one tree
 *       memory.limit_in_bytes (+ memsw), pids.max v1, one directory per hierarchy
 *
 * The parent is at the top of each hierarchy, not under the dispatcher's own
 * cgroup: a restarted dispatcher, in whatever cgroup its supervisor gives it,
 * finds what its predecessor left. Each launcher has one directory, removed
 * when it closes; at start, the directories of launchers whose process is
 * gone (a dispatcher that was killed) are removed with their children, so no
 * cgroup outlives a restart.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** What one sandbox process may use. */
export interface ProcessBound {
  memoryBytes: number
  /** Processes and threads. */
  pids: number
}

/** Where the controllers are: one unified tree (v2), or v1 hierarchies, one per controller. */
export type Hierarchy =
  | { version: 2; root: string; pids: boolean }
  | { version: 1; memory: string; pids: string | null }

export const PARENT = 'cellgate'
/** A launcher's directory: the pid of the process that made it, then a random part. */
const LAUNCHER_DIR = /^(\d+)-[0-9a-f]+$/
/** Killed leftovers are gone within milliseconds; one that is not after this (a process stuck in the kernel) is left for the next start. */
const REMOVE_ATTEMPTS = 50
const REMOVE_RETRY_MS = 20

type Read = (path: string) => string | null

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/**
 * The hierarchy sandbox cgroups go in, or why there is none.
 *
 * @example
 *   findHierarchy(readFileSync('/proc/self/mountinfo', 'utf8')) // { version: 1, memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' }
 */
export function findHierarchy(mountinfo: string, read: Read = readText): Hierarchy | string {
  const mounts = mountinfo.split('\n').flatMap((line) => {
    // "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory"
    const [left, right] = line.split(' - ')
    const point = left?.split(' ')[4]
    const [type, , options = ''] = right?.split(' ') ?? []
    return point && type ? [{ point: point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))), type, options: options.split(',') }] : []
  })
  for (const { point } of mounts.filter(({ type }) => type === 'cgroup2')) {
    // Children can use a controller only when their parent enables it; the top of the tree has no processes to be in the way.
    const enabled = read(join(point, 'cgroup.subtree_control'))?.trim().split(/\s+/) ?? []
    if (enabled.includes('memory')) return { version: 2, root: point, pids: enabled.includes('pids') }
  }
  const v1 = (controller: string): string | null => mounts.find(({ type, options }) => type === 'cgroup' && options.includes(controller))?.point ?? null
  const memory = v1('memory')
  if (memory) return { version: 1, memory, pids: v1('pids') }
  return 'no cgroup memory controller (neither cgroup v2 with memory in cgroup.subtree_control nor a v1 memory hierarchy)'
}

let found: Hierarchy | string | undefined

/** This machine's hierarchy, found once. */
export function machineHierarchy(): Hierarchy | string {
  found ??= findHierarchy(readText('/proc/self/mountinfo') ?? '')
  return found
}

/**
 * One launcher's directory in each hierarchy, and the cgroups of its sandboxes.
 *
 * @example
 *   const cgroups = new SandboxCgroups(hierarchy)
 *   const cgroup = cgroups.create('sb-1', { memoryBytes: 512 * 2 ** 20, pids: 96 })
 *   cgroup.enter(child.pid)   // before the child gets its boot line
 *   …exit… cgroup.oomKilled(); cgroup.remove()
 */
export class SandboxCgroups {
  /** The cellgate parent in each hierarchy this launcher uses. */
  private readonly parents: string[]
  private readonly name = `${process.pid}-${randomBytes(4).toString('hex')}`

  constructor(readonly hierarchy: Hierarchy) {
    this.parents = (hierarchy.version === 2 ? [hierarchy.root] : [hierarchy.memory, hierarchy.pids]).flatMap((root) => (root ? [join(root, PARENT)] : []))
    for (const parent of this.parents) removeStale(parent)
  }

  /** Makes the cgroup `name` of this launcher with the bound (throws when the system refuses). */
  create(name: string, bound: ProcessBound): ProcessCgroup {
    const dirs = this.parents.map((parent) => join(parent, this.name, name))
    const cgroup = new ProcessCgroup(this.hierarchy, dirs)
    try {
      for (const dir of dirs) {
        // Made again on every create: something outside may have removed an empty one.
        mkdirSync(dir, { recursive: true })
        if (this.hierarchy.version === 2) for (const level of [dirname(dirname(dir)), dirname(dir)]) enableControllers(level, this.hierarchy.pids)
      }
      cgroup.limit(bound)
    } catch (err) {
      // Nothing is in it yet, so it goes at once; the error that matters is this one.
      cgroup.remove().catch(() => {})
      throw err
    }
    return cgroup
  }

  /** Removes the launcher's directory (its sandboxes' cgroups are gone by then). */
  close(): void {
    for (const parent of this.parents) removeDir(join(parent, this.name))
  }
}

export class ProcessCgroup {
  constructor(private readonly hierarchy: Hierarchy, readonly dirs: string[]) {}

  /** Moves the process (all its threads) in. */
  enter(pid: number): void {
    for (const dir of this.dirs) writeFileSync(join(dir, 'cgroup.procs'), String(pid))
  }

  /** Whether the kernel's OOM killer killed a process in it for going over its memory limit. */
  oomKilled(): boolean {
    const [memory] = this.dirs
    const counts = readText(join(memory!, this.hierarchy.version === 2 ? 'memory.events' : 'memory.oom_control')) ?? ''
    return Number(/^oom_kill (\d+)$/m.exec(counts)?.[1] ?? 0) > 0
  }

  /**
   * Removes it, after the process has exited: only an empty cgroup can go.
   * What the process left running in it (its own children: tsx's esbuild
   * service, or whatever a sandbox gone wrong started) is killed first.
   */
  async remove(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const busy = this.dirs.filter((dir) => !removeDir(dir))
      if (busy.length === 0 || attempt === REMOVE_ATTEMPTS) return
      for (const dir of busy) for (const pid of readText(join(dir, 'cgroup.procs'))?.match(/\d+/g) ?? []) killQuietly(Number(pid))
      await sleep(REMOVE_RETRY_MS)
    }
  }

  limit(bound: ProcessBound): void {
    const [memory, pids] = this.dirs as [string, string | undefined]
    const bytes = String(bound.memoryBytes)
    if (this.hierarchy.version === 2) {
      writeFileSync(join(memory, 'memory.max'), bytes)
      // Swap would let it hold more than the bound.
      writeIfPresent(join(memory, 'memory.swap.max'), '0')
      if (this.hierarchy.pids) writeFileSync(join(memory, 'pids.max'), String(bound.pids))
      return
    }
    // The memory limit first: memory + swap may not be below it.
    writeFileSync(join(memory, 'memory.limit_in_bytes'), bytes)
    writeIfPresent(join(memory, 'memory.memsw.limit_in_bytes'), bytes)
    if (pids) writeFileSync(join(pids, 'pids.max'), String(bound.pids))
  }
}

function enableControllers(dir: string, pids: boolean): void {
  writeFileSync(join(dir, 'cgroup.subtree_control'), pids ? '+memory +pids' : '+memory')
}

function writeIfPresent(path: string, value: string): void {
  if (existsSync(path)) writeFileSync(path, value)
}

/** rmdir; false when it cannot go yet (a process or a cgroup still in it). */
function removeDir(dir: string): boolean {
  try {
    rmdirSync(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return false
    if (code !== 'ENOENT') throw err
  }
  return true
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

/** The directories of launchers whose process is gone, with their sandboxes' cgroups. */
function removeStale(parent: string): void {
  mkdirSync(parent, { recursive: true })
  for (const entry of readdirSync(parent, { withFileTypes: true })) {
    const pid = LAUNCHER_DIR.exec(entry.name)?.[1]
    if (!entry.isDirectory() || pid === undefined || existsSync(`/proc/${pid}`)) continue
    const dir = join(parent, entry.name)
    for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) removeDir(join(dir, child.name))
    removeDir(dir)
  }
}
