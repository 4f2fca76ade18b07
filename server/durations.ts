/**
 * Durations in words, for the messages of answers that say how long
 * something lasts (a retention period, the window of a budget).
 */

const UNITS: readonly [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1_000, 'second']]

/**
 * The largest unit that divides `ms` exactly.
 *
 * @example inWords(30 * 86_400_000) // '30 days'
 * @example inWords(90 * 60_000) // '90 minutes'
 */
export function inWords(ms: number): string {
  const [size, name] = UNITS.find(([size]) => ms >= size && ms % size === 0) ?? [1, 'millisecond']
  const count = ms / size
  return `${count} ${name}${count === 1 ? '' : 's'}`
}
