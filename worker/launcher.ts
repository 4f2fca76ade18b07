/**
 * How the dispatcher starts sandbox processes. The local launcher starts
 * child processes on this machine; the SSH launcher starts them on other
 * hosts as an untrusted account. The pool sees only this interface.
 *
 * A launched sandbox connects back to the dispatcher's sandbox endpoint as a
 * ZeroMQ DEALER whose routing id is `id`. Whatever it needs to do so (the
 * endpoint, its CURVE keys) travels in SandboxBoot over the process's
 * stdin, never in argv or the environment (protocol/boot.ts).
 */

import type { SandboxBoot } from '../protocol/index.ts'

export interface SandboxHandle {
  readonly id: string
  /** Where it runs, e.g. "local" or "untrusted@10.0.0.2:22". */
  readonly host: string
  /** OS process id where known (local launcher), for diagnostics and tests. */
  readonly pid: number | undefined
  /** Resolves once when the process has ended, however it ended. */
  readonly exited: Promise<{ code: number | null; signal: string | null; reason: string }>
  /** Ends the process (SIGKILL locally, closing the channel over SSH). */
  kill(): void
}

/** A host a launcher starts sandboxes on, as monitoring shows it. */
export interface LauncherHost {
  /** As SandboxHandle.host names it. */
  host: string
  /** up: it can take sandboxes now. */
  state: 'connecting' | 'up' | 'down'
  lastError: string | null
}

export interface Launcher {
  readonly name: string
  launch(boot: SandboxBoot): Promise<SandboxHandle>
  /** Releases connections the launcher holds. */
  close(): Promise<void>
  /** The hosts it launches on (SSH). A launcher without it runs its sandboxes on this machine, host "local". */
  hosts?(): LauncherHost[]
  /**
   * Calls `listener` whenever a host comes (back) up, so the pool launches
   * there at once instead of waiting out its retry backoff. Returns the
   * function that stops the calls.
   */
  onHostUp?(listener: () => void): () => void
}
