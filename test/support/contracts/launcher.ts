/**
 * The launcher contract: one suite every Launcher must pass (local now, SSH
 * later), run against a real ROUTER socket playing the dispatcher's sandbox
 * endpoint and a real sandbox process.
 *
 *   test ROUTER (tcp://127.0.0.1:*)          launcher ──spawn──> sandbox process
 *        |                                     stdin: SandboxBoot {id, endpoint, slots}\n
 *        | <── DEALER connect, routing id = boot.id ──────────────┘
 *        | <── credit {credits: slots}
 *   handle.kill()          ──> process ends, handle.exited resolves
 *   launcher.close()       ──> stdin closes / channel ends, process ends, exited resolves
 *
 * A launcher whose sandboxes connect with CURVE (SSH) passes the options of
 * the dispatcher's ROUTER in `routerOptions`.
 *
 * @example
 *   runLauncherContract('local', () => new LocalLauncher())
 *   runLauncherContract('ssh', () => new SshLauncher({ …, curve }), { routerOptions: () => curve.serverOptions() })
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Router, type SocketOptions } from 'zeromq'
import { decode, sandboxMessageSchema } from '../../../protocol/index.ts'
import type { Launcher, SandboxHandle } from '../../../worker/launcher.ts'

let counter = 0

export interface LauncherContractOptions {
  routerOptions?: () => SocketOptions<Router>
}

export function runLauncherContract(name: string, makeLauncher: () => Launcher | Promise<Launcher>, options: LauncherContractOptions = {}): void {
  describe(`launcher contract: ${name}`, () => {
    let router: Router
    let endpoint: string
    let launcher: Launcher
    const handles: SandboxHandle[] = []

    beforeAll(async () => {
      router = new Router({ ...options.routerOptions?.(), linger: 0, receiveTimeout: 20_000 })
      await router.bind('tcp://127.0.0.1:*')
      endpoint = router.lastEndpoint!
    })
    afterEach(async () => {
      for (const handle of handles.splice(0)) handle.kill()
      await launcher?.close()
    })
    afterAll(() => router.close())

    /** Launches a sandbox and waits until it has connected and sent its first credit. */
    async function launchConnected(slots: number): Promise<SandboxHandle> {
      launcher = await makeLauncher()
      const id = `contract-${process.pid}-${++counter}`
      const handle = await launcher.launch({ id, endpoint, slots })
      handles.push(handle)
      expect(handle.id).toBe(id)
      const [from, frame] = await router.receive()
      expect(from!.toString()).toBe(id)
      expect(decode(sandboxMessageSchema, frame!)).toEqual({ type: 'credit', credits: slots })
      return handle
    }

    it('launches a process that connects with its routing id and sends credit {slots}', async () => {
      const handle = await launchConnected(3)
      expect(typeof handle.host).toBe('string')
      expect(handle.host.length).toBeGreaterThan(0)
    })

    it('kill() ends the process and exited resolves with a reason', async () => {
      const handle = await launchConnected(1)
      handle.kill()
      const exit = await handle.exited
      // How it ended is the launcher's business (SIGKILL locally; over SSH the channel closes and it may exit 0).
      expect(exit.reason.length).toBeGreaterThan(0)
    })

    it('close() ends the processes it launched (their stdin closes)', async () => {
      const handle = await launchConnected(1)
      await launcher.close()
      const exit = await handle.exited
      expect(exit.reason.length).toBeGreaterThan(0)
    })
  })
}
