/**
 * The local launcher: the shared launcher contract against real sandbox
 * processes, plus what is local only (loopback endpoints, the sandbox exits
 * by itself when its stdin closes).
 *
 *   test ROUTER <──DEALER── sandbox child  <──stdin── LocalLauncher
 *                                          ──stdout/stderr──> relay ──> log records
 */
import { describe, expect, it } from 'vitest'
import { Router } from 'zeromq'
import { silentLogger } from '../../telemetry/logger.ts'
import { capturingLogger } from '../../test/support/logs.ts'
import { runLauncherContract } from '../../test/support/contracts/launcher.ts'
import { LocalLauncher, loopbackEndpoint } from './local.ts'

runLauncherContract('local', () => new LocalLauncher({ log: silentLogger() }))

describe('local launcher', () => {
  it('connects sandboxes over loopback only', () => {
    expect(loopbackEndpoint('tcp://127.0.0.1:5556')).toBe('tcp://127.0.0.1:5556')
    expect(loopbackEndpoint('tcp://0.0.0.0:5556')).toBe('tcp://127.0.0.1:5556')
    expect(loopbackEndpoint('tcp://*:5556')).toBe('tcp://127.0.0.1:5556')
    expect(loopbackEndpoint('ipc:///tmp/cellgate.sock')).toBe('ipc:///tmp/cellgate.sock')
    expect(() => loopbackEndpoint('tcp://10.0.0.2:5556')).toThrow(/loopback only/)
  })

  it('a sandbox exits by itself when its stdin closes', async () => {
    const router = new Router({ linger: 0, receiveTimeout: 20_000 })
    await router.bind('tcp://127.0.0.1:*')
    // A long close timeout: the process must end because stdin closed, not because it was killed.
    const launcher = new LocalLauncher({ closeTimeoutMs: 20_000, log: silentLogger() })
    try {
      const handle = await launcher.launch({ id: `stdin-${process.pid}`, endpoint: router.lastEndpoint!, slots: 1 })
      await router.receive() // connected: it read its boot line
      await launcher.close()
      const exit = await handle.exited
      expect(exit.signal).toBeNull()
    } finally {
      router.close()
    }
  })

  it('kill() is SIGKILL', async () => {
    const launcher = new LocalLauncher({ entry: 'test/support/fixtures/print-and-wait.ts', log: silentLogger() })
    const handle = await launcher.launch({ id: 'sb-kill', endpoint: 'tcp://127.0.0.1:1', slots: 1 })
    handle.kill()
    expect(await handle.exited).toEqual({ code: null, signal: 'SIGKILL', reason: 'killed by SIGKILL' })
    await launcher.close()
  })

  it('relays the child output to the log, a record per line naming the sandbox and the stream', async () => {
    const { logger: log, records } = capturingLogger('dispatcher')
    const launcher = new LocalLauncher({ entry: 'test/support/fixtures/print-and-wait.ts', log })
    const handle = await launcher.launch({ id: 'sb-relay', endpoint: 'tcp://127.0.0.1:1', slots: 1 })
    await launcher.close()
    await handle.exited
    const relayed = records.filter((r) => r.msg === 'sandbox output').map(({ component, sandboxId, stream, line }) => ({ component, sandboxId, stream, line }))
    expect(relayed).toEqual(expect.arrayContaining([
      { component: 'sandbox', sandboxId: 'sb-relay', stream: 'stdout', line: 'boot {"id":"sb-relay","endpoint":"tcp://127.0.0.1:1","slots":1}' },
      { component: 'sandbox', sandboxId: 'sb-relay', stream: 'stderr', line: 'on stderr' },
    ]))
  })
})
