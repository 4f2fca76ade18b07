/**
 * How large the OS bound on one sandbox process is (cgroup.ts applies it):
 * room for what the process legitimately holds, so only memory that no
 * isolate limit counts, or a sandbox gone wrong, ever reaches it.
 *
 *   memory = idle + slots × 1.5 × the most a cell may ask for
 *                 + sessions × 1.5 × a session's default memory
 *   pids   = 64 + 8 × slots
 *
 * Measured on a 4-slot sandbox (node 20): about 100 MB resident idle after
 * its first cell; 4 cells at 45 MB of heap each, 335 MB; 4 at 346 MB of heap
 * each, 1,570 MB (resident memory is 1.1 to 1.3 times the heap, and a heap
 * limit is soft). 23 threads with 8 slots all running.
 */
import { configSchema, type Config } from '../../config/schema.ts'
import { MAX_LIMITS } from '../../protocol/index.ts'
import type { ProcessBound } from './cgroup.ts'

const IDLE_MB = 128
const RESIDENT_PER_HEAP = 1.5
const MB = 1024 * 1024

export interface BoundSizing {
  /** An explicit memory bound in MB (config.pool.sandboxMemoryMb); without it, sized from the slots and sessions. */
  memoryMb?: number
  /**
   * Sessions a sandbox makes room for while they rest between cells: one
   * client's full allowance (config.sessions.maxPerClient), since nothing
   * stops them all landing on one sandbox.
   */
  sessions: number
  /** Memory each of them holds (config.limits.memoryMb, a session's default). */
  sessionMemoryMb: number
}

/** @example boundSizing(loadConfig(process.env)) // { memoryMb: undefined, sessions: 5, sessionMemoryMb: 64 } */
export function boundSizing(config: Pick<Config, 'pool' | 'sessions' | 'limits'>): BoundSizing {
  return { memoryMb: config.pool.sandboxMemoryMb, sessions: config.sessions.maxPerClient, sessionMemoryMb: config.limits.memoryMb }
}

/** With the default configuration. */
export const DEFAULT_SIZING: Readonly<BoundSizing> = Object.freeze(boundSizing(configSchema.parse({})))

/**
 * @example
 *   sandboxBound(4, DEFAULT_SIZING) // { memoryBytes: 3680 MB, pids: 96 }
 */
export function sandboxBound(slots: number, sizing: BoundSizing): ProcessBound {
  const isolate = (mb: number): number => Math.ceil(RESIDENT_PER_HEAP * mb)
  const memoryMb = sizing.memoryMb ?? IDLE_MB + slots * isolate(MAX_LIMITS.memoryMb) + sizing.sessions * isolate(sizing.sessionMemoryMb)
  return { memoryBytes: memoryMb * MB, pids: 64 + 8 * slots }
}
