/**
 * What a hostile client runs: the failure-mode fixtures of the sandbox
 * suite (test/support/fixtures/cells.ts) that try to take memory, flood the
 * host with calls or flood output, each with the wall time it asks for and
 * how it must end. bench/hostile-neighbour.ts loops through them beside
 * ordinary cells; test/hostile-neighbours.test.ts runs each beside
 * ordinary cells and a session in one sandbox process.
 */
import * as cells from '../test/support/fixtures/cells.ts'

export interface HostileCell {
  name: string
  code: string
  /** The wall time limit it asks for. */
  timeoutMs: number
  /** How it must end. */
  status: 'error' | 'timeout'
  error: string
}

export const HOSTILE_CELLS: readonly HostileCell[] = [
  { name: 'array growth', code: cells.allocatesForever, timeoutMs: 2_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'Map growth', code: cells.memoryHogs.map, timeoutMs: 5_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'Set growth', code: cells.memoryHogs.set, timeoutMs: 5_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'object keys', code: cells.memoryHogs.objectKeys, timeoutMs: 5_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'string concatenation', code: cells.memoryHogs.stringConcatenation, timeoutMs: 5_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'JSON.stringify', code: cells.memoryHogs.jsonStringify, timeoutMs: 5_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'resizable ArrayBuffer', code: cells.memoryHogs.resizableArrayBuffer, timeoutMs: 2_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'growable SharedArrayBuffer', code: cells.memoryHogs.growableSharedArrayBuffer, timeoutMs: 2_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'Intl objects', code: cells.memoryHogs.intlObjects, timeoutMs: 2_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'WebAssembly.Memory grow', code: cells.memoryHogs.wasmMemoryGrow, timeoutMs: 2_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'typed arrays', code: cells.memoryHogs.typedArrays, timeoutMs: 5_000, status: 'error', error: 'MemoryLimitExceeded' },
  { name: 'output flood', code: cells.floodsOutput, timeoutMs: 2_000, status: 'error', error: 'OutputLimitExceeded' },
  { name: 'timer flood', code: cells.setsAndClearsTimersForever, timeoutMs: 2_000, status: 'error', error: 'TimerLimitExceeded' },
  { name: 'display flood', code: cells.displaysForever, timeoutMs: 2_000, status: 'error', error: 'OutputLimitExceeded' },
  { name: '150,000 empty outputs', code: cells.displaysManyEmptyOutputs, timeoutMs: 2_000, status: 'error', error: 'OutputLimitExceeded' },
  { name: 'control characters', code: cells.logsControlCharacters, timeoutMs: 2_000, status: 'error', error: 'OutputLimitExceeded' },
  { name: 'interval storm', code: cells.intervalStorm, timeoutMs: 1_000, status: 'timeout', error: 'WallTimeExceeded' },
  { name: 'huge result', code: cells.returnsHugeString, timeoutMs: 2_000, status: 'error', error: 'OutputLimitExceeded' },
  { name: 'endless loop', code: cells.loopsForever, timeoutMs: 1_000, status: 'timeout', error: 'WallTimeExceeded' },
]
