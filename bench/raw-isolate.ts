/**
 * The ceiling: how many fresh isolated-vm contexts per second one process
 * can create, compile `1+1` in and run, with nothing else around it.
 */
import ivm from 'isolated-vm'

export interface RawRate {
  evalsPerSecond: number
  meanMs: number
}

/**
 * @example
 *   const { evalsPerSecond } = await measureRawIsolate(3_000)
 */
export async function measureRawIsolate(durationMs: number, code = '1+1'): Promise<RawRate> {
  const isolate = new ivm.Isolate({ memoryLimit: 64 })
  try {
    let count = 0
    const start = performance.now()
    while (performance.now() - start < durationMs) {
      const context = await isolate.createContext()
      const script = await isolate.compileScript(code)
      await script.run(context, { timeout: 1_000 })
      script.release()
      context.release()
      count++
    }
    const elapsed = performance.now() - start
    return { evalsPerSecond: (count * 1000) / elapsed, meanMs: elapsed / count }
  } finally {
    isolate.dispose()
  }
}
