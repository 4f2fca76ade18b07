/**
 * A one-line progress indicator for long runs: label, a bar for the time
 * gone, and how many requests are done. Only on a terminal (stderr is a
 * TTY); in a log it prints nothing, the result lines say it all.
 */

export interface Progress {
  /** Clears the line; call it before printing the run's result. */
  stop(): void
}

const WIDTH = 24

/**
 * @example
 *   const progress = startProgress('trivial c=32', 10, () => done)
 *   …
 *   progress.stop()
 */
export function startProgress(label: string, seconds: number, count: () => number): Progress {
  const out = process.stderr
  if (!out.isTTY) return { stop() {} }
  const start = performance.now()
  const draw = () => {
    const elapsed = (performance.now() - start) / 1000
    const filled = Math.min(WIDTH, Math.round((elapsed / seconds) * WIDTH))
    const bar = '#'.repeat(filled) + '.'.repeat(WIDTH - filled)
    out.write(`\r\x1b[K${label} [${bar}] ${elapsed.toFixed(1)}/${seconds} s, ${count()} done`)
  }
  draw()
  const timer = setInterval(draw, 200)
  return {
    stop() {
      clearInterval(timer)
      out.write('\r\x1b[K')
    },
  }
}
