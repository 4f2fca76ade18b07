/**
 * Several web tier instances serving one cluster: two server processes on
 * different ports, one MongoDB-protocol store (a real FerretDB, or the
 * MongoDB named by MONGODB_URI), one dispatcher.
 *
 *   client --> server A --\
 *                          +--> dispatcher --> sandboxes
 *   client --> server B --/
 *        both read and write one MongoDB store
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startProcess, waitHealthy, type ManagedProcess } from '../bin/cluster.ts'
import { mongoMissing, startTestMongo, type TestMongo } from './support/ferretdb.ts'
import { describeWith } from './support/needs.ts'
import { readEvents, type SseEvent } from './support/sse.ts'
import { freePort, startTestCluster, type TestCluster } from './support/test-cluster.ts'

describeWith(mongoMissing, 'two web instances on one MongoDB store', () => {
  let mongo: TestMongo
  let cluster: TestCluster
  let second: ManagedProcess
  let urlB: string

  beforeAll(async () => {
    mongo = await startTestMongo()
    const uri = mongo.uri
    const db = mongo.newDbName()
    cluster = await startTestCluster({ MONGODB_URI: uri, CELLGATE_MONGODB_DB: db, CELLGATE_SERVER_ID: 'server-a', CELLGATE_STREAM_POLL_MS: '100' })
    const port = await freePort()
    urlB = `http://127.0.0.1:${port}`
    const env = { ...process.env, ...cluster.env, PORT: String(port), CELLGATE_SERVER_ID: 'server-b' }
    second = startProcess('server', env, { supervise: false, stdio: 'ignore' })
    await waitHealthy(urlB)
  })
  afterAll(async () => {
    await second?.stop()
    await cluster?.close()
    await mongo?.close()
  })

  async function submitTo(base: string, code: string): Promise<string> {
    const res = await fetch(`${base}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
    expect(res.status).toBe(202)
    return ((await res.json()) as { id: string }).id
  }

  /** `onEvent` runs before the next event is read. */
  async function follow(base: string, id: string, lastEventId: string | undefined, enough: (seen: SseEvent[]) => boolean, onEvent?: (ev: SseEvent) => Promise<void>) {
    const seen: SseEvent[] = []
    const controller = new AbortController()
    try {
      for await (const ev of readEvents(`${base}/api/v1/cells/${id}/events`, { lastEventId, signal: controller.signal })) {
        seen.push(ev)
        await onEvent?.(ev)
        if (ev.event === 'done' || enough(seen)) break
      }
    } finally {
      controller.abort()
    }
    return seen
  }

  const seqs = (events: SseEvent[]) => events.filter((e) => e.event === 'output').map((e) => Number(e.id))
  const counting = [
    'let i = 0',
    'await new Promise((resolve) => {',
    '  const t = setInterval(() => { console.log(`line ${++i}`); if (i === 30) { clearInterval(t); resolve() } }, 40)',
    '})',
    'i',
  ].join('\n')

  it('follows a cell submitted through one instance live through the other', async () => {
    const id = await submitTo(cluster.url, counting)
    let storedAtFirstOutput: string | undefined
    const events = await follow(urlB, id, undefined, () => false, async (ev) => {
      if (ev.event !== 'output' || storedAtFirstOutput !== undefined) return
      storedAtFirstOutput = ((await (await fetch(`${urlB}/api/v1/cells/${id}`)).json()) as { status: string }).status
    })
    expect(seqs(events)).toEqual(Array.from({ length: 30 }, (_, k) => k + 1))
    const done = events.at(-1)!
    expect(done.event).toBe('done')
    expect(done.data).toMatchObject({ status: 'done', result: { text: '30' } })
    // The first output reached B while the job was running: it was followed live, not read afterwards.
    expect(storedAtFirstOutput).toBe('running')
  })

  it('misses nothing when a client moves between instances mid-stream', async () => {
    const id = await submitTo(urlB, counting)
    const first = await follow(cluster.url, id, undefined, (seen) => seqs(seen).length >= 5)
    const second = await follow(urlB, id, String(seqs(first).at(-1)), (seen) => seqs(seen).length >= 10)
    const third = await follow(cluster.url, id, String(seqs(second).at(-1)), () => false)
    expect([...seqs(first), ...seqs(second), ...seqs(third)]).toEqual(Array.from({ length: 30 }, (_, k) => k + 1))
    expect(third.at(-1)!.data).toMatchObject({ status: 'done' })
  })

  it('reads a job stored through one instance from the other', async () => {
    const res = await fetch(`${urlB}/api/v1/cells?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: "console.log('b'); 'from b'" }) })
    const job = (await res.json()) as { id: string; status: string }
    expect(job.status).toBe('done')
    const again = (await (await fetch(`${cluster.url}/api/v1/cells/${job.id}`)).json()) as { status: string; outputs: unknown[]; result: { text: string } }
    expect(again).toMatchObject({ status: 'done', result: { text: "'from b'" } })
    expect(again.outputs).toHaveLength(1)
  })
})
