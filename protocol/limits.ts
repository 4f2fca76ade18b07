/**
 * Limits on a cell: the defaults a deployment starts with and the hard
 * maxima no configuration or request can exceed. Shared by the server (which
 * validates requests against them), the dispatcher (which enforces wall time
 * and output size on what a sandbox sends) and the sandbox (which enforces
 * all of them on the isolate).
 */
export interface Limits {
  /** Wall-clock time a cell may take, from start to end, in ms. */
  wallMs: number
  /** CPU time the isolate may use, in ms. */
  cpuMs: number
  /** Isolate heap limit in MB. isolated-vm's limit is soft: the process is supervised. */
  memoryMb: number
  /** Total bytes of output (all streams, and the result) before the cell is stopped; see output-bytes.ts for how they are counted. */
  outputBytes: number
  /** Outputs a cell may make before it is stopped (each also counts OUTPUT_OVERHEAD_BYTES toward outputBytes). */
  outputs: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  wallMs: 10_000,
  cpuMs: 5_000,
  memoryMb: 64,
  outputBytes: 1024 * 1024,
  outputs: 10_000,
})

export const MAX_LIMITS: Readonly<Limits> = Object.freeze({
  wallMs: 60_000,
  cpuMs: 60_000,
  memoryMb: 512,
  outputBytes: 16 * 1024 * 1024,
  outputs: 100_000,
})

/** Largest accepted cell source, in bytes (UTF-8). */
export const MAX_CODE_BYTES = 64 * 1024

/** Largest accepted JSON request body, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Smallest wall and CPU limits a request may ask for, in ms. */
export const MIN_TIME_MS = 10

/** Smallest isolate heap limit a request may ask for, in MB (isolated-vm refuses less). */
export const MIN_MEMORY_MB = 8
