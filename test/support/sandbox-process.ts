/**
 * Test harness: the sandbox as a real process (node sandbox/main.ts), as
 * the local launcher starts it, booted over stdin and talking to a real
 * ZeroMQ ROUTER that the test plays. For what must be seen from outside
 * the process: that it lives on, exits cleanly, or what it writes on stderr.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Router } from 'zeromq'
import { decode, sandboxMessageSchema, type JobSpec, type SandboxCurveKeys, type SandboxMessage } from '../../protocol/index.ts'
import { rawFrame } from './frames.ts'
import type { EndMessage, JobRecord } from './sandbox-harness.ts'

const MAIN = fileURLToPath(new URL('../../sandbox/main.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface SandboxProcess {
  child: ChildProcessByStdio<Writable, null, Readable>
  /** The process's exit code and signal, once it has exited and its stderr has been read. */
  exited: Promise<[code: number | null, signal: string | null]>
  /** The next message the sandbox sends, in order (not for use beside `run`). */
  nextMessage(): Promise<SandboxMessage>
  /** Sends any JSON as a frame: a test may send what the sandbox must refuse. */
  send(message: object): Promise<void>
  /** Lines written on stderr so far. */
  stderr: string[]
  /** Kills the process and closes the ROUTER. */
  close(): void
}

/**
 * @example
 *   const sandbox = await startSandboxProcess(2)
 *   expect(await sandbox.nextMessage()).toEqual({ type: 'credit', credits: 2 })
 */
export async function startSandboxProcess(slots: number, options: { id?: string; routerOptions?: object; curve?: SandboxCurveKeys } = {}): Promise<SandboxProcess> {
  const router = new Router(options.routerOptions)
  await router.bind('tcp://127.0.0.1:0')
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', MAIN], { cwd: ROOT, stdio: ['pipe', 'inherit', 'pipe'] })
  // 'close', not 'exit': by then everything the process wrote on stderr has been read.
  const exited = once(child, 'close') as Promise<[number | null, string | null]>
  const stderr = collectLines(child.stderr)
  const id = options.id ?? `sandbox-test-${process.pid}-${child.pid}`
  child.stdin.write(`${JSON.stringify({ id, endpoint: router.lastEndpoint, slots, curve: options.curve })}\n`)

  const received: SandboxMessage[] = []
  const nextMessage = async (): Promise<SandboxMessage> => {
    while (received.length === 0) {
      const [sender, ...frames] = await router.receive()
      if (sender?.toString() !== id) throw new Error(`a message from ${String(sender)}, not the sandbox ${id}`)
      received.push(...frames.map((frame) => decode(sandboxMessageSchema, frame)))
    }
    return received.shift()!
  }
  const send = (message: object) => router.send([id, rawFrame(message)])
  const close = () => {
    child.kill('SIGKILL')
    router.close()
  }
  return { child, exited, nextMessage, send, stderr, close }
}

/**
 * Plays the dispatcher for jobs run at once in a SandboxProcess: reads
 * every message and hands each job's to whoever runs it.
 *
 * @example
 *   const jobs = new ProcessDispatcher(sandbox)
 *   const [a, b] = await Promise.all([jobs.run(testJob('1')), jobs.run(testJob('2'))])
 */
export class ProcessDispatcher {
  readonly #sandbox: SandboxProcess
  readonly #jobs = new Map<string, { messages: SandboxMessage[]; done: (record: JobRecord) => void }>()
  /** Every sessionEnded the sandbox sent. */
  readonly sessionsEnded: string[] = []
  /** Resolves on the sandbox's first message (its credit): a ROUTER drops what it sends to a peer not yet connected. */
  readonly #connected: Promise<void>
  #onConnected!: () => void

  constructor(sandbox: SandboxProcess) {
    this.#sandbox = sandbox
    this.#connected = new Promise((resolve) => (this.#onConnected = resolve))
    void this.#read()
  }

  async run(job: JobSpec): Promise<JobRecord> {
    await this.#connected
    return new Promise((done) => {
      this.#jobs.set(job.jobId, { messages: [], done })
      void this.#sandbox.send({ type: 'run', job })
    })
  }

  async #read(): Promise<void> {
    for (;;) {
      let message: SandboxMessage
      try {
        message = await this.#sandbox.nextMessage()
      } catch {
        return // the ROUTER was closed
      }
      this.#onConnected()
      if (message.type === 'sessionEnded') this.sessionsEnded.push(message.session)
      if (!('jobId' in message)) continue
      const job = this.#jobs.get(message.jobId)
      if (job === undefined) continue
      job.messages.push(message)
      if (message.type !== 'end') continue
      this.#jobs.delete(message.jobId)
      const outputs = job.messages.flatMap((m) => (m.type === 'output' ? [m.output] : []))
      job.done({ messages: job.messages, outputs, end: message as EndMessage })
    }
  }
}

/**
 * What the process writes on the stream, split into lines as it arrives.
 *
 * @example const stderr = collectLines(child.stderr) // later: stderr.map((line) => JSON.parse(line))
 */
export function collectLines(stream: NodeJS.ReadableStream): string[] {
  const lines: string[] = []
  let partial = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
  })
  return lines
}
