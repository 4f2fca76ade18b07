/**
 * The narrow channel between the host (sandbox process) and the code that
 * runs inside an isolate. Both directions carry only primitives and one
 * function (`post`), so isolated-vm copies them cheaply and nothing of the
 * host is reachable from a cell. Imported by both sides (types and one constant).
 *
 *   host --enter('run', post, source, outputBytes, outputs, memoryBytes)--> isolate   (start a cell)
 *   host --enter('fire', timerIds)-----------------------------> isolate   (timers are due)
 *   host <--post('output' | 'timer' | 'clear' | 'result' | 'error' | 'memory', …)-- isolate
 *
 * Due timer ids travel as one Uint32Array, copied in one piece: as
 * separate arguments, 10,000 of them cost the host 3–4 ms a call.
 *
 * `post` is an ivm.Callback in "ignored" mode: the isolate never waits for
 * the host, and calls arrive in order, before the `enter` call that made
 * them completes.
 */

export type PostedStream = 'stdout' | 'stderr' | 'display'

/** A call from the isolate to the host. The host validates each one (see host-call.ts). */
export type HostCall =
  | [kind: 'output', stream: PostedStream, mime: string, data: string]
  | [kind: 'timer', id: number, delayMs: number, repeat: boolean]
  | [kind: 'clear', id: number]
  /** The main evaluation finished; no text means it produced `undefined`. */
  | [kind: 'result', text?: string, json?: string]
  /** The main evaluation or a timer callback threw. */
  | [kind: 'error', name: string, message: string, stack?: string]
  /** What the cell holds outside the V8 heap would pass its memoryMb (isolate/memory-ledger.ts): end it. */
  | [kind: 'memory', bytes: number]

export type Post = (...call: HostCall) => void

/** A call from the host into the isolate. */
export type EnterCall = [op: 'run', post: Post, source: string, outputBytes: number, outputs: number, memoryBytes: number] | [op: 'fire', ids: Uint32Array]

export type Enter = (...call: EnterCall) => void

/** Filename the cell's code is evaluated under; its stack frames name it. */
export const CELL_FILENAME = 'cell.js'
