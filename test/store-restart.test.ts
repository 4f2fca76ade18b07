/**
 * The MongoDB store's server restarted under load: cells keep being
 * submitted and keep running while the MongoDB-protocol server (a real
 * FerretDB) is killed and started again. Every job still ends, none is
 * lost, and health says the store is down while it is.
 *
 *   client --> server --(store down, then back)--> FerretDB
 *                 \--> dispatcher --> sandboxes (keep running meanwhile)
 */
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
    // Submitted while the store is down: the driver waits for the server to come back (202), or,
    // when it has already given up on the connection, a clear 503. Never a 500.
    const late = fetch(`${cluster.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
    await new Promise((resolve) => setTimeout(resolve, 500))
    await mongo.restart()
    const answer = await late
    const body = (await answer.json()) as { id?: string; error?: { code: string } }
    if (answer.status === 202) ids.push(body.id!)
    else expect([answer.status, body.error?.code]).toEqual([503, 'unavailable'])
    for (let i = 0; i < 5; i++) ids.push(await submit())

    for (const id of ids) {
      const job = await waitForEnd(id)
      expect(job.status).toBe('done')
      expect(job.outputs.map((o) => o.data)).toEqual(['start\n', 'end\n'])
      expect(job.result).toEqual({ text: '7', json: 7 })
    }
    expect((await health()).status).toBe(200)
  })

  async function waitForEnd(id: string) {
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${cluster.url}/api/v1/cells/${id}`)
      if (res.status === 200) {
        const job = (await res.json()) as { status: string; outputs: { data: string }[]; result: unknown }
        if (!['queued', 'running'].includes(job.status)) return job
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`job ${id} did not end`)
  }
})
