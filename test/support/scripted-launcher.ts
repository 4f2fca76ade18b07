/**
 * Test support: a Launcher whose "sandbox processes" are DEALER sockets in
 * the test process, driven by the test. They connect to the dispatcher's
 * real sandbox ROUTER with the routing id they were launched with, and send
 * what the test tells them, valid or not: the way to test how the
 * dispatcher treats a sandbox that dies at a chosen moment, never ends a
 * job, floods output or lies.
 *
 *   test ──script──> ScriptedSandbox DEALER (routing id = boot.id) ──frames──> dispatcher ROUTER
 *                                                                 <──run/cancel──
 */
import { Dealer } from 'zeromq'
import { decode, toSandboxMessageSchema, type ToSandboxMessage } from '../../protocol/index.ts'
import type { SandboxBoot } from '../../protocol/index.ts'
import type { Launcher, LauncherHost, SandboxHandle } from '../../worker/launcher.ts'
import { Inbox } from './inbox.ts'

type Exit = { code: number | null; signal: string | null; reason: string }

export class ScriptedSandbox {
  readonly handle: SandboxHandle
  private readonly dealer: Dealer
  private readonly inbox = new Inbox<ToSandboxMessage>()
  private exit!: (exit: Exit) => void

  constructor(readonly boot: SandboxBoot) {
    this.dealer = new Dealer({ routingId: boot.id, linger: 0 })
    this.dealer.connect(boot.endpoint)
    const exited = new Promise<Exit>((resolve) => (this.exit = resolve))
    this.handle = { id: boot.id, host: 'scripted', pid: undefined, exited, kill: () => this.die('killed by SIGKILL', 'SIGKILL') }
    void this.readLoop()
  }

  /** Every message the dispatcher sent it, in order. */
  get received(): readonly ToSandboxMessage[] {
    return this.inbox.received
  }

  get id(): string {
    return this.boot.id
  }

  /** Sends one multipart message, one frame per item; objects are JSON-encoded, strings sent as they are. */
  send(...items: (object | string)[]): Promise<void> {
    return this.dealer.send(items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))))
  }

  /** The first message matching, already received or still to come. */
  waitFor(match: (m: ToSandboxMessage) => boolean): Promise<ToSandboxMessage> {
    return this.inbox.waitFor(match)
  }

  /** The `run` of a job (waits for it), returning its jobId. */
  async waitForRun(jobId?: string): Promise<string> {
    const run = await this.waitFor((m) => m.type === 'run' && (jobId === undefined || m.job.jobId === jobId))
    return (run as Extract<ToSandboxMessage, { type: 'run' }>).job.jobId
  }

  /** The process "ends": its socket closes and `exited` resolves, as when a real one crashes. */
  die(reason = 'exited with code 1', signal: string | null = null): void {
    if (!this.dealer.closed) this.dealer.close()
    this.exit({ code: signal ? null : 1, signal, reason })
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        for (const frame of frames) {
          this.inbox.push(decode(toSandboxMessageSchema, frame))
        }
      }
    } catch (err) {
      if (!this.dealer.closed) throw err
    }
  }
}

/**
 * Its sandboxes run on one host, "scripted", which the test can take down
 * (launches fail, as an SSH host that does not answer) and bring back up
 * (onHostUp listeners are told, as the SSH launcher does).
 */
export class ScriptedLauncher implements Launcher {
  readonly name = 'scripted'
  readonly sandboxes: ScriptedSandbox[] = []
  /** Launches tried while the host was down. */
  refused = 0
  private waiters: { n: number; resolve: (s: ScriptedSandbox) => void }[] = []
  private up = true
  private readonly upListeners = new Set<() => void>()

  /** With autoCredit, each sandbox sends credit {slots} on launch, as a real one does once connected. */
  constructor(private readonly options: { autoCredit?: boolean } = {}) {}

  hosts(): LauncherHost[] {
    return [{ host: 'scripted', state: this.up ? 'up' : 'down', lastError: this.up ? null : 'taken down by the test' }]
  }

  onHostUp(listener: () => void): () => void {
    this.upListeners.add(listener)
    return () => this.upListeners.delete(listener)
  }

  /** Takes the host down or brings it back up. */
  setUp(up: boolean): void {
    this.up = up
    if (up) for (const listener of this.upListeners) listener()
  }

  async launch(boot: SandboxBoot): Promise<SandboxHandle> {
    if (!this.up) {
      this.refused++
      throw new Error('scripted host is down')
    }
    const sandbox = new ScriptedSandbox(boot)
    this.sandboxes.push(sandbox)
    if (this.options.autoCredit ?? true) void sandbox.send({ type: 'credit', credits: boot.slots })
    for (const waiter of this.waiters.filter((w) => w.n === this.sandboxes.length)) waiter.resolve(sandbox)
    this.waiters = this.waiters.filter((w) => w.n !== this.sandboxes.length)
    return sandbox.handle
  }

  /** The n-th sandbox launched (1-based), waiting for it if need be. */
  launched(n: number): Promise<ScriptedSandbox> {
    const sandbox = this.sandboxes[n - 1]
    if (sandbox) return Promise.resolve(sandbox)
    return new Promise((resolve) => this.waiters.push({ n, resolve }))
  }

  async close(): Promise<void> {
    for (const sandbox of this.sandboxes) sandbox.die('launcher closed')
  }
}
