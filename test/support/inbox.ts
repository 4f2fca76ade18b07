/**
 * What a test socket has received, in order, and promises for messages
 * still to come: shared by the scripted sandbox and the test server.
 */
export class Inbox<T> {
  /** Every message received, in order. */
  readonly received: T[] = []
  private waiters: { match: (m: T) => boolean; resolve: (m: T) => void }[] = []

  push(message: T): void {
    this.received.push(message)
    const waiting = this.waiters
    this.waiters = []
    for (const waiter of waiting) {
      if (waiter.match(message)) waiter.resolve(message)
      else this.waiters.push(waiter)
    }
  }

  /**
   * The first message matching, received at index `from` or later; waits for it if needed.
   *
   * @example
   *   const run = await inbox.waitFor((m) => m.type === 'run')
   */
  waitFor(match: (m: T) => boolean, from = 0): Promise<T> {
    for (let i = from; i < this.received.length; i++) if (match(this.received[i]!)) return Promise.resolve(this.received[i]!)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }
}
