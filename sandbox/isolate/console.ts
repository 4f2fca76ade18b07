/**
 * The cell's `console`: log/info/debug write to stdout, warn/error to
 * stderr, formatted as Node does (printf-like first argument, other values
 * inspected), one output per call, posted as it happens.
 */
import { inspect, show } from './describe.ts'
import type { Emit } from './emit.ts'

export function createConsole(emit: Emit): Record<string, (...args: unknown[]) => void> {
  const writer =
    (stream: 'stdout' | 'stderr') =>
    (...args: unknown[]): void =>
      emit(stream, 'text/plain', `${format(args)}\n`)
  const stdout = writer('stdout')
  const stderr = writer('stderr')
  return {
    log: stdout,
    info: stdout,
    debug: stdout,
    warn: stderr,
    error: stderr,
    dir: (value: unknown) => emit('stdout', 'text/plain', `${inspect(value)}\n`),
  }
}

/**
 * Node's console formatting in short: `%s %d %i %f %j %o %O %c %%` in a
 * first string argument take the next arguments; the rest are joined by a
 * space.
 *
 * @example format(['%d items', 3, { a: 1 }]) // '3 items { a: 1 }'
 */
export function format(args: unknown[]): string {
  const rest = [...args]
  let head = ''
  if (typeof rest[0] === 'string' && rest.length > 1) {
    head = rest.shift() as string
    head = head.replace(/%([sdifjoOc%])/g, (match, spec: string) => {
      if (spec === '%') return '%'
      if (rest.length === 0) return match
      const value = rest.shift()
      switch (spec) {
        case 's': return show(value)
        case 'd': case 'i': return String(spec === 'i' ? parseInt(String(value), 10) : Number(value))
        case 'f': return String(parseFloat(String(value)))
        case 'j': return JSON.stringify(value)
        case 'c': return ''
        default: return inspect(value)
      }
    })
    if (rest.length === 0) return head
    head += ' '
  }
  return head + rest.map(show).join(' ')
}
