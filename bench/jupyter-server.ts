/**
 * The peer: Debian's Jupyter Server (scripts/install-jupyter.sh installs it)
 * started on a loopback port with a token and a throwaway directory, its
 * Python kernels created over REST, and code executed over each kernel's
 * channels WebSocket (execute_request, then wait for its execute_reply),
 * as any Jupyter client does.
 *
 *   bench ──REST──> jupyter-server ──ZeroMQ──> ipykernel (one process per kernel)
 *   bench ──WebSocket /api/kernels/<id>/channels──┘
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { childrenOf } from '../test/support/processes.ts'
import { freePort } from '../test/support/test-cluster.ts'

export const JUPYTER_SERVER = '/usr/bin/jupyter-server'
const START_TIMEOUT_MS = 60_000
const EXECUTE_TIMEOUT_MS = 30_000

export interface JupyterServer {
  url: string
  pid: number
  /** The kernel processes (children of the server). */
  kernelPids(): number[]
  startKernel(): Promise<Kernel>
  close(): Promise<void>
}

export interface Kernel {
  id: string
  /** Runs code; resolves on its execute_reply with status ok. */
  execute(code: string): Promise<void>
  close(): Promise<void>
}

/**
 * Jupyter Server as shipped never sets TCP_NODELAY on a kernel's WebSocket
 * (tornado leaves it to the handler), so after the first small message of a
 * reply (status busy) the rest waits for the client's delayed ACK: about
 * 40 ms on every execution that is alone on its connection, whoever the
 * client is. With `noDelay` a config file turns Nagle off for those sockets,
 * as a Jupyter tuned for latency would: the comparison against its best.
 */
const NO_DELAY_CONFIG = `from jupyter_server.services.kernels.handlers import ZMQChannelsHandler

_open = ZMQChannelsHandler.open


def _open_without_nagle(self, *args, **kwargs):
    self.set_nodelay(True)
    return _open(self, *args, **kwargs)


ZMQChannelsHandler.open = _open_without_nagle
`

/** Why Jupyter cannot run here, or undefined. */
export function jupyterMissing(): string | undefined {
  return existsSync(JUPYTER_SERVER) ? undefined : `${JUPYTER_SERVER} not found: run scripts/install-jupyter.sh (as root)`
}

/**
 * @example
 *   const jupyter = await startJupyter()
 *   const kernel = await jupyter.startKernel()
 *   await kernel.execute('1+1')
 *   await jupyter.close()
 */
export async function startJupyter(options: { noDelay?: boolean } = {}): Promise<JupyterServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cellgate-jupyter-'))
  if (options.noDelay) {
    mkdirSync(join(dir, 'config'))
    writeFileSync(join(dir, 'config', 'jupyter_server_config.py'), NO_DELAY_CONFIG)
  }
  const port = await freePort()
  const token = randomUUID()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(JUPYTER_SERVER, [
    '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--ServerApp.port_retries=0',
    `--ServerApp.token=${token}`, `--ServerApp.root_dir=${dir}`,
    // Jupyter refuses root unless told; a container's bench often runs as root.
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ], {
    // Its own config, runtime and IPython dirs (nothing from or into $HOME), and the system Python first in PATH.
    env: { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, JUPYTER_CONFIG_DIR: join(dir, 'config'), JUPYTER_RUNTIME_DIR: join(dir, 'runtime'), IPYTHONDIR: join(dir, 'ipython') },
    stdio: ['ignore', 'ignore', process.env.BENCH_JUPYTER_LOGS ? 'inherit' : 'ignore'],
  })
  const headers = { authorization: `token ${token}`, 'content-type': 'application/json' }
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGTERM') // Jupyter shuts its kernels down on SIGTERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitUp(`${url}/api/status`, headers, () => child.exitCode !== null)
  } catch (err) {
    await close()
    throw err
  }
  return {
    url,
    pid: child.pid!,
    kernelPids: () => childrenOf(child.pid!),
    async startKernel() {
      const res = await fetch(`${url}/api/kernels`, { method: 'POST', headers, body: JSON.stringify({ name: 'python3' }) })
      if (res.status !== 201) throw new Error(`POST /api/kernels answered ${res.status}: ${await res.text()}`)
      const { id } = (await res.json()) as { id: string }
      const kernel = await connectKernel(`ws://127.0.0.1:${port}/api/kernels/${id}/channels?session_id=${randomUUID()}`, token, id)
      return {
        ...kernel,
        async close() {
          await kernel.close()
          await fetch(`${url}/api/kernels/${id}`, { method: 'DELETE', headers }).then((r) => r.body?.cancel())
        },
      }
    },
    close,
  }
}

async function waitUp(url: string, headers: Record<string, string>, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`${JUPYTER_SERVER} exited at start (BENCH_JUPYTER_LOGS=1 shows its log)`)
    try {
      const res = await fetch(url, { headers })
      if (res.ok) return
      last = `${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await sleep(200)
  }
  throw new Error(`Jupyter Server not up after ${START_TIMEOUT_MS} ms: ${last}`)
}

interface JupyterMessage {
  channel: string
  header: { msg_id: string; msg_type: string }
  parent_header: { msg_id?: string }
  content: { status?: string; ename?: string; evalue?: string }
}

/** One WebSocket per kernel; replies are paired with requests by msg_id, so requests may overlap. */
async function connectKernel(wsUrl: string, token: string, id: string): Promise<Omit<Kernel, 'close'> & { close(): Promise<void> }> {
  const ws = new WebSocket(wsUrl, { headers: { authorization: `token ${token}` } })
  await once(ws, 'open')
  const session = randomUUID()
  const pending = new Map<string, { resolve: () => void; reject: (err: Error) => void }>()
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString()) as JupyterMessage
    if (msg.channel !== 'shell' || !msg.parent_header.msg_id) return
    const waiter = pending.get(msg.parent_header.msg_id)
    if (!waiter) return
    pending.delete(msg.parent_header.msg_id)
    if (msg.content.status === 'ok') waiter.resolve()
    else waiter.reject(new Error(`${msg.header.msg_type}: ${msg.content.status} ${msg.content.ename ?? ''} ${msg.content.evalue ?? ''}`))
  })
  ws.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('kernel WebSocket closed'))
    pending.clear()
  })
  const request = (msgType: string, content: object) => new Promise<void>((resolve, reject) => {
    const msgId = randomUUID()
    const timer = setTimeout(() => {
      pending.delete(msgId)
      reject(new Error(`${msgType} got no reply in ${EXECUTE_TIMEOUT_MS} ms`))
    }, EXECUTE_TIMEOUT_MS)
    pending.set(msgId, { resolve: () => (clearTimeout(timer), resolve()), reject: (err) => (clearTimeout(timer), reject(err)) })
    ws.send(JSON.stringify({
      header: { msg_id: msgId, msg_type: msgType, username: 'bench', session, date: new Date().toISOString(), version: '5.3' },
      parent_header: {},
      metadata: {},
      content,
      channel: 'shell',
    }))
  })
  // The kernel answers kernel_info once it is ready to execute.
  await request('kernel_info_request', {})
  return {
    id,
    execute: (code) => request('execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true }),
    async close() {
      ws.close()
      if (ws.readyState !== WebSocket.CLOSED) await once(ws, 'close')
    },
  }
}
