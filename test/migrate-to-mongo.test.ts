/**
 * bin/migrate-to-mongo.ts as an operator runs it: a real SQLite store in a
 * temp directory, the command in a child process, a real FerretDB (or the
 * MongoDB named by MONGODB_URI) as the target: jobs with their outputs,
 * notebooks, accounts, keys (which then work against the target) and the
 * audit log. Run twice, it copies nothing the second time.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Output } from '../protocol/index.ts'
import { sampleJob } from './support/contracts/store.ts'
import { sampleNotebook } from './support/contracts/samples.ts'
import { ADMIN_KEY } from './support/principals.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { firstStart } from '../server/principals/first-start.ts'
import { createSubKey, resolveKey } from '../server/principals/keys.ts'
import { MongoStore } from '../server/store/mongo.ts'
import { SqliteStore } from '../server/store/sqlite.ts'
import { mongoMissing, startTestMongo, type TestMongo } from './support/ferretdb.ts'
import { describeWith } from './support/needs.ts'

const COMMAND = fileURLToPath(new URL('../bin/migrate-to-mongo.ts', import.meta.url))
const run = promisify(execFile)

/** Runs the command; resolves with its exit code and output either way. */
async function migrate(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', COMMAND, ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

function out(seq: number): Output {
  return { seq, stream: seq % 2 ? 'stdout' : 'stderr', mime: 'text/plain', data: `line ${seq}\n` }
}

describeWith(mongoMissing, 'migrate-to-mongo', () => {
  let mongo: TestMongo
  let dataDir: string
  const dbName = () => `migrated_${process.pid}`

  const done = sampleJob({ status: 'done', startedAt: 1_700_000_000_100, endedAt: 1_700_000_000_200, result: { text: '2', json: 2 } })
  const failed = sampleJob({ status: 'error', error: { name: 'TypeError', message: 'x is not a function' } })
  const queued = sampleJob()
  const notebooks = [sampleNotebook(), sampleNotebook({ owner: 'someone' })]
  let subKey: string

  beforeAll(async () => {
    mongo = await startTestMongo()
    dataDir = mkdtempSync(join(tmpdir(), 'cellgate-migrate-'))
    const source = new SqliteStore(dataDir)
    await source.open()
    // Outputs are only taken while a job runs: store them, then end the jobs.
    for (const job of [done, failed]) await source.insertJob({ ...job, status: 'running' })
    await source.insertJob(queued)
    await source.apply([
      { jobId: done.id, outputs: [1, 2, 3].map(out), transition: { from: ['running'], to: 'done', patch: { startedAt: done.startedAt, endedAt: done.endedAt, result: done.result } } },
      { jobId: failed.id, outputs: [out(1)], transition: { from: ['running'], to: 'error', patch: { error: failed.error } } },
    ])
    await firstStart(source, { bootstrapKey: ADMIN_KEY, url: 'http://127.0.0.1/' }, silentLogger())
    const admin = (await resolveKey(source, ADMIN_KEY, Date.now()))!.key
    const made = await createSubKey(source, admin, { name: 'grader', request: { scopes: ['cells:run'] } }, Date.now())
    if (!('secret' in made)) throw new Error('no sub-key')
    subKey = made.secret
    for (const notebook of notebooks) await source.saveNotebook(notebook)
    await source.appendAudit({ id: 'audit-1', at: 1_700_000_000_000, action: 'key.created', accountId: admin.accountId, keyId: admin.id, client: 'cli', detail: { keyId: made.record.id } })
    await source.close()
  })

  afterAll(async () => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    if (mongo?.kind === 'external') {
      const store = new MongoStore({ uri: mongo.uri, dbName: dbName() })
      await store.client.db(dbName()).dropDatabase()
      await store.close()
    }
    await mongo?.close()
  })

  it('copies every job and output once, and nothing on a second run', async () => {
    const first = await migrate(['--data-dir', dataDir, '--uri', mongo.uri, '--db', dbName()])
    expect(first.stderr).toBe('')
    expect(first).toMatchObject({ code: 0 })
    expect(first.stdout).toContain('copied 3 of 3 jobs and 4 of 4 outputs')
    expect(first.stdout).toContain('copied 2 of 2 notebooks, 2 of 2 accounts, 2 of 2 keys and 1 of 1 audit records')

    // The second run takes its target from the environment, as a deployment sets it.
    const second = await migrate(['--data-dir', dataDir], { MONGODB_URI: mongo.uri, CELLGATE_MONGODB_DB: dbName() })
    expect(second).toMatchObject({ code: 0 })
    expect(second.stdout).toContain('copied 0 of 3 jobs and 0 of 4 outputs')
    expect(second.stdout).toContain('copied 0 of 2 notebooks, 0 of 2 accounts, 0 of 2 keys and 0 of 1 audit records')

    const target = new MongoStore({ uri: mongo.uri, dbName: dbName() })
    await target.open()
    expect(await target.getJob(done.id)).toEqual(done)
    expect(await target.getJob(failed.id)).toEqual(failed)
    expect(await target.getJob(queued.id)).toEqual(queued)
    expect(await target.getOutputs(done.id)).toEqual([1, 2, 3].map(out))
    expect(await target.getOutputs(failed.id)).toEqual([out(1)])
    for (const notebook of notebooks) expect(await target.getNotebook(notebook.id)).toEqual(notebook)
    // The keys work against the target as they did against the source.
    expect((await resolveKey(target, ADMIN_KEY, Date.now()))?.account.name).toBe('admin')
    expect((await resolveKey(target, subKey, Date.now()))?.key.name).toBe('grader')
    expect((await target.listAudit({ limit: 10 })).map((r) => r.id)).toEqual(['audit-1'])
    await target.close()
  })

  it('refuses to run without a target or without a source store', async () => {
    const noUri = await migrate(['--data-dir', dataDir], { MONGODB_URI: '' })
    expect(noUri.code).toBe(2)
    expect(noUri.stderr).toMatch(/--uri/)

    const empty = mkdtempSync(join(tmpdir(), 'cellgate-migrate-empty-'))
    const noStore = await migrate(['--data-dir', empty, '--uri', mongo.uri])
    rmSync(empty, { recursive: true, force: true })
    expect(noStore.code).toBe(2)
    expect(noStore.stderr).toMatch(/no store at/)
  })
})
