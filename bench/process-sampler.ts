/**
 * Watches cellgate's processes from /proc while the bench runs: resident
 * memory (VmRSS of /proc/<pid>/status) sampled over time, tagged with the
 * phase then running, and CPU time (utime + stime of /proc/<pid>/stat)
 * between two marks, as the share of one core each process used. Linux
 * only; elsewhere the sampler sees no process and reports nothing.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** A process to watch, under a label such as `server` or `sandbox 1234`. */
export interface ProcessRef {
  label: string
  pid: number
}

export interface MemorySample {
  /** Milliseconds since the sampler started. */
  t: number
  phase: string
  /** Resident memory in KiB by process label. */
  rssKb: Record<string, number>
}

export interface CpuMark {
  at: number
  ticks: Map<string, number>
}

export interface ProcessSampler {
  readonly samples: MemorySample[]
  /** Labels the samples taken from now on. */
  phase(name: string): void
  /** Takes one sample now (besides the periodic ones). */
  sample(): MemorySample
  cpuMark(): CpuMark
  /** Share of one core (1 = 100%) each process used since the mark. */
  cpuSince(mark: CpuMark): Record<string, number>
  stop(): void
}

const CLOCK_TICKS = clockTicks()
/**
 * The label of the CPU all processes on the machine used (a share of one
 * core, so up to the number of cores): on a shared machine, what the others
 * took during a run is what this minus ours is.
 */
export const MACHINE = 'whole machine'

/**
 * @example
 *   const sampler = startSampler(() => [{ label: 'server', pid }], 500)
 *   sampler.phase('trivial c=32')
 */
export function startSampler(processes: () => ProcessRef[], intervalMs = 500): ProcessSampler {
  const start = performance.now()
  const samples: MemorySample[] = []
  let phase = 'start'
  const sample = () => {
    const rssKb: Record<string, number> = {}
    for (const p of processes()) {
      const rss = readRssKb(p.pid)
      if (rss !== undefined) rssKb[p.label] = rss
    }
    const s = { t: Math.round(performance.now() - start), phase, rssKb }
    samples.push(s)
    return s
  }
  const timer = setInterval(sample, intervalMs)
  return {
    samples,
    phase(name) {
      phase = name
    },
    sample,
    cpuMark() {
      const ticks = new Map<string, number>()
      const machine = readMachineTicks()
      if (machine !== undefined) ticks.set(MACHINE, machine)
      for (const p of processes()) {
        const t = readCpuTicks(p.pid)
        if (t !== undefined) ticks.set(p.label, t)
      }
      return { at: performance.now(), ticks }
    },
    cpuSince(mark) {
      const now = this.cpuMark()
      const seconds = (now.at - mark.at) / 1000
      const share: Record<string, number> = {}
      for (const [label, ticks] of now.ticks) {
        const before = mark.ticks.get(label)
        if (before !== undefined) share[label] = (ticks - before) / CLOCK_TICKS / seconds
      }
      return share
    },
    stop() {
      clearInterval(timer)
    },
  }
}

export interface MemorySummary {
  label: string
  /** The first sample of the process (MiB). */
  idleMb: number
  /** The largest sample under load, i.e. outside phases named `idle…` (MiB). */
  peakMb: number
  /** The last sample (MiB). */
  endMb: number
}

/** Idle, peak and last resident memory of each process seen in the samples. */
export function summarizeMemory(samples: readonly MemorySample[]): MemorySummary[] {
  const byLabel = new Map<string, MemorySummary>()
  for (const s of samples) {
    for (const [label, kb] of Object.entries(s.rssKb)) {
      const mb = kb / 1024
      let m = byLabel.get(label)
      if (!m) byLabel.set(label, (m = { label, idleMb: mb, peakMb: 0, endMb: mb }))
      if (!s.phase.startsWith('idle')) m.peakMb = Math.max(m.peakMb, mb)
      m.endMb = mb
    }
  }
  return [...byLabel.values()]
}

function readRssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined // the process ended
  }
}

function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces: fields start after the last ')'; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}

/** Busy ticks of all cores together, from the first line of /proc/stat. */
function readMachineTicks(): number | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    return user! + nice! + system! + irq! + softirq! + (steal ?? 0)
  } catch {
    return undefined
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
}
