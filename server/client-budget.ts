/**
 * A budget per client that refills evenly (a token bucket): each client may
 * spend `capacity` units at once, and gets all of them back over
 * `windowMs`. Someone working at a human pace never meets the bound however
 * long they work; a flood meets it within one window, and is told exactly
 * when it may go on (Retry-After). Until there are keys a client is its IP
 * address (caller.ts); per-key quotas will replace the keys of this map.
 *
 * State is one small entry per client that spent something recently, held
 * by this web instance: with several instances, each gives a client its own
 * budget.
 */

interface Spent {
  /** Units spent and not yet refilled, as of `at`. */
  used: number
  at: number
}

/**
 * @example
 *   const writes = new ClientBudget(600, 3_600_000)
 *   if (writes.waitMs(client, 1, now) === 0) writes.spend(client, 1, now)
 */
export class ClientBudget {
  private readonly spent = new Map<string, Spent>()

  constructor(readonly capacity: number, readonly windowMs: number) {}

  /** How long until `client` may spend `amount` (0: now). More than the whole budget waits for all of it. */
  waitMs(client: string, amount: number, now: number): number {
    const over = this.usedAt(client, now) + Math.min(amount, this.capacity) - this.capacity
    return over <= 0 ? 0 : Math.ceil((over * this.windowMs) / this.capacity)
  }

  spend(client: string, amount: number, now: number): void {
    this.spent.set(client, { used: this.usedAt(client, now) + amount, at: now })
  }

  /** Forgets the clients whose budget is whole again (the sweep calls it), so the map holds only recent clients. */
  forgetRefilled(now: number): void {
    for (const client of this.spent.keys()) if (this.usedAt(client, now) === 0) this.spent.delete(client)
  }

  /** Clients held now. */
  get size(): number {
    return this.spent.size
  }

  private usedAt(client: string, now: number): number {
    const spent = this.spent.get(client)
    if (!spent) return 0
    return Math.max(0, spent.used - ((now - spent.at) * this.capacity) / this.windowMs)
  }
}
