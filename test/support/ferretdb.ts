/**
 * A MongoDB-compatible server for tests: a real FerretDB v1 on a free
 * loopback port over SQLite files in a fresh temp directory, or, when
 * MONGODB_URI is set, that server (a real MongoDB) with databases of this
 * test file's own. Tests ask `mongoMissing` first and skip (or, under CI,
 * fail) through describeWith when neither can be had.
 *
 * FerretDB is found on PATH or in `$(go env GOPATH)/bin`; scripts/build-ferretdb.sh
 * builds it (run by .ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './test-cluster.ts'

export interface TestMongo {
  uri: string
  /** 'ferretdb' when this file started one; 'external' for MONGODB_URI, which tests cannot stop. */
  kind: 'ferretdb' | 'external'
  /** A database name nobody else uses (this file's prefix plus a counter). */
  newDbName(): string
  /** Kills the server (like a crash: no goodbye to clients); its data stays. */
  stop(): Promise<void>
  /** Starts it again (killing it first if it runs) on the same port over the same data. */
  restart(): Promise<void>
  /** Stops it and deletes its data. */
  close(): Promise<void>
}

const binary = findFerretDb()

/**
 * Why no server can be had, or null when one can.
 * @example
 *   describeWith(mongoMissing, 'MongoStore', () => { … })
 */
export const mongoMissing: string | null = process.env.MONGODB_URI ? null : binary.missing

/**
 * @example
 *   const mongo = await startTestMongo()   // after checking mongoMissing
 *   const store = new MongoStore({ uri: mongo.uri, dbName: mongo.newDbName() })
 */
export async function startTestMongo(): Promise<TestMongo> {
  const prefix = `cg_${process.pid}_${Math.random().toString(36).slice(2, 6)}`
  let counter = 0
  const newDbName = () => `${prefix}_${++counter}`
  const external = process.env.MONGODB_URI
  if (external) {
    const cannot = async () => {
      throw new Error('cannot stop or restart the server named by MONGODB_URI')
    }
    return { uri: external, kind: 'external', newDbName, stop: cannot, restart: cannot, close: async () => {} }
  }
  if (!binary.path) throw new Error(`no FerretDB: ${binary.missing}`)
  return startFerretDb(binary.path, newDbName)
}

async function startFerretDb(path: string, newDbName: () => string): Promise<TestMongo> {
  const dir = mkdtempSync(join(tmpdir(), 'cellgate-ferretdb-'))
  const port = await freePort()
  let child: ChildProcess | undefined

  const start = async () => {
    const log = openSync(join(dir, 'ferretdb.log'), 'a')
    child = spawn(path, [
      '--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`,
      `--state-dir=${dir}`, '--debug-addr=-', '--telemetry=disable',
    ], { stdio: ['ignore', log, log] })
    closeSync(log)
    await untilListening(child, port)
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGKILL')
    await exited
  }

  await start()
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    kind: 'ferretdb',
    newDbName,
    stop,
    async restart() {
      await stop()
      await start()
    },
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Resolves once the port accepts connections; rejects if the process exits first. */
async function untilListening(child: ChildProcess, port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`ferretdb exited (${child.exitCode ?? child.signalCode}) before listening`)
    if (await accepts(port)) return
    await sleep(50)
  }
  throw new Error(`ferretdb did not listen on 127.0.0.1:${port}`)
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** The first ferretdb on PATH or in GOPATH/bin that starts, or why there is none. */
function findFerretDb(): { path: string; missing: null } | { path: null; missing: string } {
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim() || join(homedir(), 'go')
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), join(gopath, 'bin')].map((d) => join(d, 'ferretdb'))
  const found = candidates.find(isExecutable)
  if (!found) return { path: null, missing: 'no ferretdb on PATH or in $(go env GOPATH)/bin and MONGODB_URI is not set' }
  const version = spawnSync(found, ['--version'], { encoding: 'utf8' })
  if (version.status !== 0) {
    const why = (version.stderr || version.error?.message || '').split('\n')[0]
    return { path: null, missing: `${found} does not start (${why}); rebuild it with build/version/version.txt` }
  }
  return { path: found, missing: null }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
