/**
 * The sandbox pool: keeps `size` sandbox processes through a Launcher,
 * replaces one that exits (with a growing delay while they die before
 * connecting, so a broken sandbox does not spin), and keeps the credit books
 * the scheduler uses: which sandboxes can take a job right now.
 *
 * Credits come from the untrusted sandbox, so they are capped: a sandbox
 * never holds more jobs than the slots it was launched with, whatever it
 * claims, and never gets a job it did not give a credit for.
 */
import { randomBytes } from 'node:crypto'
import type { PoolState } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DispatchJob } from './job.ts'
import type { Launcher, SandboxHandle } from './launcher.ts'

/** starting: launched, not connected yet; ready: has a free slot; busy: all slots taken; retiring: being killed. */
export const SANDBOX_STATES = ['starting', 'ready', 'busy', 'retiring'] as const
export type SandboxState = (typeof SANDBOX_STATES)[number]

export class Sandbox {
  /** Set by its first credit: the process is up and connected. */
  connected = false
  /** Jobs it may still be sent (credits it gave, not used yet). */
  credits = 0
  /** Jobs it holds: sent `run`, not reported ended. */
  readonly jobs = new Map<string, DispatchJob>()
  /** Ids of the sessions whose context it holds. */
  readonly sessions = new Set<string>()
  jobsRun = 0
  /** Set once it is dead to the dispatcher (killed, exited, unreachable). */
  retired: string | null = null
  /** How many jobs it can take now; kept in step with the pool's total. */
  free = 0
  readonly routingId: Buffer
  startTimer: NodeJS.Timeout | null = null

  constructor(readonly handle: SandboxHandle, readonly slots: number) {
    this.routingId = Buffer.from(handle.id)
  }

  get id(): string {
    return this.handle.id
  }

  get state(): SandboxState {
    if (this.retired !== null) return 'retiring'
    return !this.connected ? 'starting' : this.free > 0 ? 'ready' : 'busy'
  }
}

export interface PoolOptions {
  size: number
  slots: number
  /** Sandbox endpoint the processes connect back to. */
  endpoint: string
  /** A sandbox that has not connected by then is killed (config.pool.startTimeoutMs). */
  startTimeoutMs: number
  /** First delay before launching again after a failed start; it doubles per failure in a row, up to 10 s. Default 200 ms. */
  retryBaseMs?: number
  /** The process's logger; the pool logs as component `pool`. */
  log: Logger
}

export interface PoolEvents {
  /** The sandbox is dead to the dispatcher; its jobs are still in `sandbox.jobs`. Called once. */
  onRetired(sandbox: Sandbox, reason: string): void
  /** Some sandbox can take a job now. */
  onFree(): void
}

const BACKOFF_BASE_MS = 200
const BACKOFF_MAX_MS = 10_000

export class Pool {
  private readonly sandboxes = new Map<string, Sandbox>()
  /** Sandboxes with free > 0, in the order they get the next job (round robin). */
  private readonly available = new Set<Sandbox>()
  private freeSlots = 0
  private pending = 0
  private failures = 0
  private counter = 0
  private closed = false
  /** Launches waiting out a retry delay. */
  private readonly delayed = new Set<NodeJS.Timeout>()
  private readonly idPrefix = `sb-${randomBytes(6).toString('base64url')}-`
  /** Why the last sandbox ended or failed to start, for monitoring. */
  lastError: string | null = null
  private readonly log: Logger

  constructor(
    private readonly launcher: Launcher,
    private readonly options: PoolOptions,
    private readonly events: PoolEvents,
  ) {
    this.log = options.log.child({ component: 'pool' })
  }

  /** Launches processes until `size` are running or starting. */
  fill(): void {
    while (!this.closed && this.sandboxes.size + this.pending < this.options.size) this.launchOne(0)
  }

  get(id: string): Sandbox | undefined {
    return this.sandboxes.get(id)
  }

  list(): Sandbox[] {
    return [...this.sandboxes.values()]
  }

  /** A sandbox that can take a job now, if any. */
  next(): Sandbox | undefined {
    for (const sandbox of this.available) return sandbox
    return undefined
  }

  /** The sandbox with a free slot holding the fewest sessions, for a new session's first cell. */
  leastSessions(): Sandbox | undefined {
    let best: Sandbox | undefined
    for (const sandbox of this.available) if (!best || sandbox.sessions.size < best.sessions.size) best = sandbox
    return best
  }

  /** The sandbox gave `n` credits (its first credit marks it connected). */
  credit(sandbox: Sandbox, n: number): void {
    if (!sandbox.connected) {
      sandbox.connected = true
      this.failures = 0
      if (sandbox.startTimer) clearTimeout(sandbox.startTimer)
      // sandboxPid: `pid` is this process's own, in every record.
      this.log.info({ sandboxId: sandbox.id, host: sandbox.handle.host, sandboxPid: sandbox.handle.pid }, 'sandbox connected')
    }
    sandbox.credits = Math.min(sandbox.credits + n, sandbox.slots)
    this.refresh(sandbox)
  }

  /** The job goes to the sandbox: uses one of its credits. */
  assign(sandbox: Sandbox, job: DispatchJob): void {
    sandbox.credits--
    sandbox.jobs.set(job.id, job)
    sandbox.jobsRun++
    this.refresh(sandbox)
    // Round robin: the next job goes to another sandbox when one is free.
    if (this.available.delete(sandbox)) this.available.add(sandbox)
  }

  /** The sandbox no longer holds the job. */
  release(sandbox: Sandbox, jobId: string): void {
    if (sandbox.jobs.delete(jobId)) this.refresh(sandbox)
  }

  /** Kills the sandbox; the pool replaces it once the process has ended. */
  retire(sandbox: Sandbox, reason: string): void {
    if (sandbox.retired !== null) return
    sandbox.retired = reason
    if (sandbox.startTimer) clearTimeout(sandbox.startTimer)
    this.available.delete(sandbox)
    this.freeSlots -= sandbox.free
    sandbox.free = 0
    sandbox.handle.kill()
    if (this.closed) return
    // One that never connected is logged when its start failed, with the delay before the next.
    if (sandbox.connected) this.log.warn({ sandboxId: sandbox.id, reason, jobs: sandbox.jobs.size }, 'sandbox retired')
    this.events.onRetired(sandbox, reason)
  }

  /** connected: sandboxes serving jobs (busy or not); ready: those with a free slot; freeSlots: jobs they can take now. */
  state(queued: number): PoolState {
    let connected = 0
    for (const sandbox of this.sandboxes.values()) if (sandbox.connected && sandbox.retired === null) connected++
    return { sandboxes: this.sandboxes.size, connected, ready: this.available.size, freeSlots: this.freeSlots, queued }
  }

  /**
   * Launches that wait out a retry delay start now, and the delay starts
   * again from its base: something changed that makes them likely to work
   * (an SSH host came back up).
   */
  retryNow(): void {
    if (this.closed) return
    this.failures = 0
    for (const timer of this.delayed) {
      clearTimeout(timer)
      void this.start()
    }
    this.delayed.clear()
  }

  /** Kills every sandbox and waits for the processes to end; launches nothing more. */
  async close(): Promise<void> {
    this.closed = true
    for (const timer of this.delayed) clearTimeout(timer)
    this.pending -= this.delayed.size
    this.delayed.clear()
    const exits = this.list().map((sandbox) => {
      this.retire(sandbox, 'dispatcher closing')
      return sandbox.handle.exited
    })
    await Promise.all(exits)
  }

  private refresh(sandbox: Sandbox): void {
    if (sandbox.retired !== null) return
    const free = Math.max(0, Math.min(sandbox.credits, sandbox.slots - sandbox.jobs.size))
    this.freeSlots += free - sandbox.free
    const wasFree = sandbox.free > 0
    sandbox.free = free
    if (free > 0 && !wasFree) {
      this.available.add(sandbox)
      this.events.onFree()
    } else if (free === 0 && wasFree) {
      this.available.delete(sandbox)
    }
  }

  private launchOne(delayMs: number): void {
    this.pending++
    if (delayMs <= 0) return void this.start()
    const timer = setTimeout(() => {
      this.delayed.delete(timer)
      void this.start()
    }, delayMs)
    timer.unref()
    this.delayed.add(timer)
  }

  private async start(): Promise<void> {
    const id = `${this.idPrefix}${++this.counter}`
    let handle: SandboxHandle | null = null
    let error: unknown
    if (!this.closed) {
      try {
        handle = await this.launcher.launch({ id, endpoint: this.options.endpoint, slots: this.options.slots })
      } catch (err) {
        error = err
      }
    }
    this.pending--
    if (this.closed) handle?.kill()
    else if (handle) this.watch(new Sandbox(handle, this.options.slots))
    else this.startFailed(`launch of ${id} failed: ${(error as Error).message}`)
  }

  private watch(sandbox: Sandbox): void {
    this.sandboxes.set(sandbox.id, sandbox)
    const { startTimeoutMs } = this.options
    sandbox.startTimer = setTimeout(() => this.retire(sandbox, `did not connect within ${startTimeoutMs} ms`), startTimeoutMs)
    void sandbox.handle.exited.then(({ reason }) => {
      this.retire(sandbox, reason)
      this.sandboxes.delete(sandbox.id)
      if (!sandbox.connected) {
        this.startFailed(`sandbox ${sandbox.id} ended before connecting: ${sandbox.retired}`)
      } else {
        this.lastError = `sandbox ${sandbox.id} ended: ${sandbox.retired}`
        this.fill()
      }
    })
  }

  /** Retries with a delay doubling on each failure in a row, reset by a sandbox that connects. */
  private startFailed(why: string): void {
    this.lastError = why
    if (this.closed) return
    const base = this.options.retryBaseMs ?? BACKOFF_BASE_MS
    const delay = Math.min(base * 2 ** this.failures, Math.max(base, BACKOFF_MAX_MS))
    this.failures++
    this.log.warn({ reason: why, retryInMs: delay }, 'sandbox start failed')
    if (this.sandboxes.size + this.pending < this.options.size) this.launchOne(delay)
  }
}
