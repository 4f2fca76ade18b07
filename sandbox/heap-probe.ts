/**
 * Reads an isolate's heap while code runs in it, through an isolated-vm
 * inspector session: `Runtime.getHeapUsage` is answered at an interrupt,
 * between two of the cell's instructions, where getHeapStatisticsSync
 * would wait for the isolate to be idle (which a runaway cell never is).
 *
 * isolated-vm 5's inspector sessions are fragile, and these rules are what
 * kept the process alive when it was measured (each broke it otherwise):
 *
 * - A session is made with its first request sent at once, and disposed
 *   only once the reply to its last request has arrived, a turn later: a
 *   session disposed with a request in flight aborts the process ("pure
 *   virtual method called"), one made and disposed with none sent
 *   segfaults within a few thousand.
 * - An isolate is never disposed while a session of it lives: disposing it
 *   deadlocks the disposing thread (InspectorAgent's destructor takes its
 *   session list's lock and then asks for it again), and afterwards
 *   neither the session's dispose nor process.exit returns. Engine.dispose
 *   (engine.ts) therefore closes the probe first.
 * - One request in flight at a time, so there is always a last reply to wait for.
 *
 * `closingProbes()` waits for every close (and the disposal after it) not
 * finished yet: main.ts waits for it before the process exits.
 */
import type ivm from 'isolated-vm'

const pending = new Set<Promise<void>>()
/** While a reply is awaited, how often to look whether the isolate went without one. */
const GONE_CHECK_MS = 10

/**
 * Resolves once every probe being closed has closed.
 *
 * @example
 *   await closingProbes(); process.exit(0)
 */
export async function closingProbes(): Promise<void> {
  while (pending.size > 0) await Promise.all(pending)
}

export class HeapProbe {
  readonly #isolate: ivm.Isolate
  #session: ivm.InspectorSession | undefined
  /** The reply awaited, if a request is in flight (the one of id #lastId). */
  #awaiting: ((usedBytes: number) => void) | undefined
  #lastId = 0
  #closing: Promise<void> | undefined

  constructor(isolate: ivm.Isolate) {
    this.#isolate = isolate
  }

  /**
   * The isolate's V8 heap in use, in bytes, as the inspector answers; undefined
   * when a request is already in flight or the probe is closed. (It
   * includes garbage not yet collected: the inspector's collectGarbage is
   * a task that waits for the isolate to be idle, no use here, and one
   * still pending when the session goes crashes the process.)
   *
   * @example
   *   const used = await probe.read() // 4_123_456
   */
  read(): Promise<number> | undefined {
    if (this.#awaiting !== undefined || this.#closing !== undefined || this.#isolate.isDisposed) return undefined
    const session = (this.#session ??= this.#open())
    return new Promise((resolve) => {
      this.#awaiting = resolve
      session.dispatchProtocolMessage(JSON.stringify({ id: ++this.#lastId, method: 'Runtime.getHeapUsage' }))
    })
  }

  /**
   * Disposes the session once no reply is pending, then runs `afterwards`
   * (at once when no session was opened). The probe can be read again
   * once this has resolved.
   *
   * @example
   *   probe.close(() => isolate.dispose())
   */
  close(afterwards?: () => void): Promise<void> {
    const closing = this.#closing ?? Promise.resolve()
    const session = this.#session
    if (session === undefined && this.#closing === undefined) {
      afterwards?.()
      return closing
    }
    const closed = closing.then(async () => {
      if (session !== undefined && this.#session === session) {
        if (this.#awaiting !== undefined) await this.#replyOrGone()
        await new Promise((resolve) => setImmediate(resolve))
        // An isolate that went on its own (isolated-vm's hard limit) has taken the session with it; disposing it would hang.
        if (!this.#isolate.isDisposed) session.dispose()
        this.#session = undefined
      }
      afterwards?.()
    })
    this.#closing = closed
    pending.add(closed)
    void closed.finally(() => {
      pending.delete(closed)
      if (this.#closing === closed) this.#closing = undefined
    })
    return closed
  }

  #open(): ivm.InspectorSession {
    const session = this.#isolate.createInspectorSession()
    session.onNotification = () => {}
    session.onResponse = (id, message) => {
      if (id !== this.#lastId) return
      const awaiting = this.#awaiting
      this.#awaiting = undefined
      awaiting?.(usedSize(message))
    }
    return session
  }

  /**
   * Resolves after the reply in flight has been read, or once the isolate
   * is gone (isolated-vm disposes it at its own limit), when none will come.
   */
  #replyOrGone(): Promise<void> {
    const reader = this.#awaiting!
    return new Promise((resolve) => {
      const gone = setInterval(() => {
        if (!this.#isolate.isDisposed) return
        clearInterval(gone)
        resolve()
      }, GONE_CHECK_MS)
      this.#awaiting = (bytes) => {
        clearInterval(gone)
        reader(bytes)
        resolve()
      }
    })
  }
}

/** The reply's usedSize; 0 when it has none (an error reply, which would be isolated-vm's or V8's bug). */
function usedSize(message: string): number {
  try {
    const used = (JSON.parse(message) as { result?: { usedSize?: unknown } }).result?.usedSize
    return typeof used === 'number' ? used : 0
  } catch {
    return 0
  }
}
