/**
 * Ceiling "bare Hono route answering JSON": starts bare-hono-server.ts as a
 * child process (so it has a core of its own, like cellgate's server) and
 * drives it with autocannon exactly as the trivial-cell scenario drives
 * cellgate.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { runCannon } from './cannon.ts'
import type { ScenarioResult } from './scenario-result.ts'
import { TRIVIAL_CODE } from './trivial-cell.ts'

export interface BareHono {
  url: string
  pid: number
  close(): Promise<void>
}

/**
 * @example
 *   const hono = await startBareHono()
 *   const r = await runBareHono(hono.url, 32, 10)
 *   await hono.close()
 */
export async function startBareHono(): Promise<BareHono> {
  const script = fileURLToPath(new URL('./bare-hono-server.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const [url] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => { throw new Error('bare Hono server exited at start') })])) as [string]
  return {
    url,
    pid: child.pid!,
    async close() {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.stdin!.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

export function runBareHono(url: string, connections: number, durationSeconds: number): Promise<ScenarioResult> {
  return runCannon('ceiling: bare Hono JSON route', {
    url: `${url}/json`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: TRIVIAL_CODE }),
  }, connections, durationSeconds)
}
