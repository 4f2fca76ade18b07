/**
 * The sandbox as a real process: started as the local launcher starts it,
 * booted over stdin, talking to a real ZeroMQ ROUTER played by the test.
 *
 *   test ROUTER (tcp://127.0.0.1:port)         node sandbox/main.ts
 *        stdin: {"id","endpoint","slots"[,"curve"]} -->
 *        <-- [id, credit {2}] ------------------  DEALER connects
 *        --- [id, run {job}] ------------------>
 *        <-- [id, started] [id, output] [id, end, credit {1}]
 *        stdin closed ------------------------->  exits (no orphans)
 *        <-- stderr: pino JSON lines (bad frame, bad boot line)
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { SandboxCurveKeys, SandboxMessage } from '../protocol/index.ts'
import { collectLines, startSandboxProcess } from '../test/support/sandbox-process.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { CurveAuthority } from '../worker/curve-authority.ts'
import { testJob } from '../test/support/jobs.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** With `curve`, the ROUTER is a CURVE server admitting only the keys its authority issued, and the boot line carries the keys given. */
async function startSandbox(slots: number, curve?: { authority: CurveAuthority; keys: SandboxCurveKeys }) {
  const sandbox = await startSandboxProcess(slots, { id: `sandbox-test-${process.pid}`, routerOptions: curve?.authority.serverOptions(), curve: curve?.keys })
  cleanups.push(sandbox.close)
  return sandbox
}

describe('sandbox process (sandbox/main.ts)', () => {
  it('boots from stdin, serves a job over ZeroMQ, and exits when stdin closes', async () => {
    const sandbox = await startSandbox(2)
    expect(await sandbox.nextMessage()).toEqual({ type: 'credit', credits: 2 })

    const job = testJob(`console.log('from the sandbox process')\n6 * 7`)
    await sandbox.send({ type: 'run', job })
    const messages: SandboxMessage[] = []
    while (!messages.some((m) => m.type === 'credit')) messages.push(await sandbox.nextMessage())
    expect(messages.map((m) => m.type)).toEqual(['started', 'output', 'end', 'credit'])
    expect(messages[1]).toMatchObject({ output: { stream: 'stdout', data: 'from the sandbox process\n' } })
    expect(messages[2]).toMatchObject({ jobId: job.jobId, status: 'done', result: { text: '42', json: 42 } })

    sandbox.child.stdin.end()
    const [code] = await sandbox.exited
    expect(code).toBe(0)
  })

  it('ignores a bad frame, logs it as a JSON line on stderr, and keeps serving', async () => {
    const sandbox = await startSandbox(1)
    expect(await sandbox.nextMessage()).toEqual({ type: 'credit', credits: 1 })
    await sandbox.send({ type: 'run', job: { jobId: 'x' } })
    const job = testJob('1 + 1')
    await sandbox.send({ type: 'run', job })
    expect(await sandbox.nextMessage()).toEqual({ type: 'started', jobId: job.jobId })
    expect(await sandbox.nextMessage()).toMatchObject({ type: 'end', status: 'done', result: { json: 2 } })
    sandbox.child.stdin.end()
    expect((await sandbox.exited)[0]).toBe(0)
    // The bad frame arrived before the good one, so its line was written (synchronously) before the job ran.
    expect(sandbox.stderr.map((line) => JSON.parse(line) as object)).toEqual([
      expect.objectContaining({ level: 40, process: 'sandbox', component: 'transport', msg: 'ignored a bad frame', err: expect.objectContaining({ type: 'ProtocolError' }) }),
    ])
  })

  it('connects with CURVE using the keys of its boot line (how sandboxes on other hosts connect)', async () => {
    const authority = await CurveAuthority.start(silentLogger())
    cleanups.push(() => authority.close())
    const sandbox = await startSandbox(1, { authority, keys: authority.issue(`sandbox-test-${process.pid}`) })
    expect(await sandbox.nextMessage()).toEqual({ type: 'credit', credits: 1 })
    expect(authority.refused).toBe(0)
    sandbox.child.stdin.end()
    expect((await sandbox.exited)[0]).toBe(0)
  })

  it('exits with an error on a bad boot line', async () => {
    const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', MAIN], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] })
    cleanups.push(() => child.kill('SIGKILL'))
    const stderr = collectLines(child.stderr)
    child.stdin.write('{"id": ""}\n')
    const [code] = (await once(child, 'close')) as [number | null]
    expect(code).toBe(2)
    expect(stderr.map((line) => JSON.parse(line) as object)).toEqual([expect.objectContaining({ level: 60, process: 'sandbox', msg: 'bad boot line' })])
  })
})
