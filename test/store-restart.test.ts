/**
 * The MongoDB store's server restarted under load: cells keep being
 * submitted and keep running while the MongoDB-protocol server (a real
 * FerretDB) is killed and started again. Every job still ends, none is
 * lost, and health says the store is down while it is.
 *
 *   client --> server --(store down, then back)--> FerretDB
 *                 \--> dispatcher --> sandboxes (keep running meanwhile)
 */
import { request } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { mongoMissing, startTestMongo, type TestMongo } from './support/ferretdb.ts'
import { describeWith } from './support/needs.ts'
import { startTestCluster, type TestCluster } from './support/test-cluster.ts'

describeWith(mongoMissing === null && process.env.MONGODB_URI ? 'MONGODB_URI names a server this test cannot restart' : mongoMissing, 'MongoDB store restarted under load', () => {
  let mongo: TestMongo
  let cluster: TestCluster

  beforeAll(async () => {
    mongo = await startTestMongo()
    cluster = await startTestCluster({ MONGODB_URI: mongo.uri, CELLGATE_MONGODB_DB: mongo.newDbName(), CELLGATE_POOL_SIZE: '2' })
  })
  afterAll(async () => {
    await cluster?.close()
    await mongo?.close()
  })

  const code = "console.log('start'); await new Promise((r) => setTimeout(r, 300)); console.log('end'); 7"

  async function submit(): Promise<string> {
    const res = await fetch(`${cluster.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
    expect(res.status).toBe(202)
    return ((await res.json()) as { id: string }).id
  }

  async function health(): Promise<{ status: number; store: { ok: boolean } }> {
    const res = await fetch(`${cluster.url}/api/v1/health`)
    return { status: res.status, store: ((await res.json()) as { store: { ok: boolean } }).store }
  }

  it('ends every job once the store is back, and reports the outage on /health meanwhile', async () => {
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push(await submit())

    await mongo.stop()
    const during = await health()
    expect(during.status).toBe(503)
    expect(during.store.ok).toBe(false)
    // Submitted while the store is down (the whole request has reached the server's socket before
    // the store comes back): the driver waits for the server to come back (202), or, when it has
    // already given up on the connection, a clear 503. Never a 500.
    const late = await postSent(code)
    await mongo.restart()
    const answer = await late.answer
    if (answer.status === 202) ids.push(answer.body.id!)
    else expect([answer.status, answer.body.error?.code]).toEqual([503, 'unavailable'])
    for (let i = 0; i < 5; i++) ids.push(await submit())

    for (const id of ids) {
      const job = await waitForEnd(id)
      expect(job.status).toBe('done')
      expect(job.outputs.map((o) => o.data)).toEqual(['start\n', 'end\n'])
      expect(job.result).toEqual({ text: '7', json: 7 })
    }
    expect((await health()).status).toBe(200)
  })

  /** Resolves once the whole POST has been written to the server; `answer` resolves with its response. */
  async function postSent(cellCode: string) {
    const payload = JSON.stringify({ code: cellCode })
    const req = request(`${cluster.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } })
    const answer = new Promise<{ status: number; body: { id?: string; error?: { code: string } } }>((resolve, reject) => {
      req.once('response', (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).once('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
      })
      req.once('error', reject)
    })
    await new Promise<void>((resolve, reject) => req.end(payload, () => resolve()).once('error', reject))
    return { answer }
  }

  type StoredJob = { status: string; outputs: { data: string }[]; result: unknown }

  async function waitForEnd(id: string): Promise<StoredJob> {
    const read = async (): Promise<StoredJob | null> => {
      const res = await fetch(`${cluster.url}/api/v1/cells/${id}`)
      return res.status === 200 ? ((await res.json()) as StoredJob) : null
    }
    await expect.poll(async () => (await read())?.status, { timeout: 60_000, interval: 100 }).toSatisfy((s) => s !== undefined && !['queued', 'running'].includes(s as string))
    return (await read())!
  }
})
