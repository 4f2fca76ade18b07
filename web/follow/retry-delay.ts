/**
 * How long the client waits before it tries the server again after a
 * failure, in one place for every page: quickly at first (a dropped
 * connection is usually back at once), then ever more slowly up to a few
 * seconds, so a server that restarts is found soon without a room full of
 * browsers asking it many times a second. Each wait is spread by a fifth
 * either way, so those browsers do not all ask at the same moment.
 */

const DELAYS_MS = [250, 1_000, 2_000, 4_000]

/**
 * The wait before try number `attempt` (0 for the first retry after a failure).
 * @example setTimeout(reconnect, retryDelayMs(attempt++))
 */
export function retryDelayMs(attempt: number): number {
  const base = DELAYS_MS[Math.min(attempt, DELAYS_MS.length - 1)]!
  return Math.round(base * (0.8 + Math.random() * 0.4))
}
