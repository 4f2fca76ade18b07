/**
 * A ceiling: how fast isolated-vm alone creates a fresh context, compiles
 * `1+1` in it and runs it, in this one process, with nothing else around
 * it. Each of the `concurrency` loops has its own isolate, as each sandbox
 * slot has (isolated-vm runs each isolate on its own thread).
 */
import ivm from 'isolated-vm'
import { runLoops } from './loop-driver.ts'
import type { ScenarioResult } from './scenario-result.ts'
import { TRIVIAL_CODE } from './trivial-cell.ts'

/**
 * @example
 *   const r = await runRawIsolate(2, 10)
 */
export async function runRawIsolate(concurrency: number, durationSeconds: number, code = TRIVIAL_CODE): Promise<ScenarioResult> {
  const isolates = Array.from({ length: concurrency }, () => new ivm.Isolate({ memoryLimit: 64 }))
  try {
    return await runLoops({
      scenario: 'ceiling: raw isolated-vm fresh context',
      concurrency,
      durationSeconds,
      iteration: async (loop) => {
        const isolate = isolates[loop]!
        const context = await isolate.createContext()
        const script = await isolate.compileScript(code)
        await script.run(context, { timeout: 1_000 })
        script.release()
        context.release()
      },
    })
  } finally {
    for (const isolate of isolates) isolate.dispose()
  }
}
