/**
 * Sessions end to end with real processes: server and dispatcher started as
 * `cellgate server` / `cellgate dispatcher`, one real sandbox process (two
 * slots), real SQLite, real sockets; faults injected from outside.
 *
 *   client --POST /sessions--> server --(first cell)--> dispatcher pins the session --> sandbox (its own isolate)
 *   client --POST /cells {code, session}--> … the same sandbox, the same context, one cell at a time
 *   kill -9 the sandbox --> its running cell ends lost, the session ends with the reason, next cell 409
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from './support/sse.ts'
import { startTestCluster, type TestCluster } from './support/test-cluster.ts'

interface Job {
  id: string
  status: string
  session: string | null
  result: { text: string } | null
  error: { name: string; message: string } | null
  startedAt: string | null
  endedAt: string | null
}

interface Session {
  id: string
  status: 'active' | 'ended'
  endReason: string | null
  cells: string[]
  links: { self: string }
}

const IDLE_MS = 4_000
let cluster: TestCluster
const created: string[] = []

beforeAll(async () => {
  cluster = await startTestCluster({
    CELLGATE_POOL_SIZE: '1',
    CELLGATE_SANDBOX_SLOTS: '2',
    CELLGATE_SESSION_IDLE_MS: String(IDLE_MS),
    CELLGATE_SESSIONS_PER_CLIENT: '3',
  })
})
afterAll(async () => {
  await cluster?.close()
})
// Every test ends what it made: all of them count against the one client's limit of 3.
afterEach(async () => {
  for (const id of created.splice(0)) await fetch(`${cluster.url}/api/v1/sessions/${id}`, { method: 'DELETE' })
})

/** What the API answers: a session, a job or an error, as the test expects it. */
type Reply = Session & Job & { error: { code: string; message: string } }

async function api(method: string, path: string, body?: object): Promise<{ status: number; body: Reply }> {
  const res = await fetch(`${cluster.url}/api/v1${path}`, {
    method,
    ...(body && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Reply }
}

async function newSession(): Promise<Session> {
  const { status, body } = await api('POST', '/sessions')
  expect(status).toBe(201)
  created.push(body.id)
  return body as Session
}

/** Runs a cell and waits for its end. */
async function run(code: string, session?: string, extra: object = {}): Promise<Job> {
  const { status, body } = await api('POST', '/cells?wait=true', { code, ...(session && { session }), ...extra })
  expect(status).toBe(200)
  return body as Job
}

async function result(code: string, session?: string): Promise<string | undefined> {
  const job = await run(code, session)
  expect(job.error).toBeNull()
  return job.result?.text
}

describe('sessions end to end', () => {
  it('keeps variables, let/const, functions and classes from one cell to the next', async () => {
    const { id } = await newSession()
    expect(await result('x = 41', id)).toBe('41')
    expect(await result('x + 1', id)).toBe('42')
    await result('let y = 1\nconst f = () => 2\nfunction g() { return 3 }\nclass C { v() { return 4 } }', id)
    expect(await result('[y, f(), g(), new C().v()]', id)).toBe('[ 1, 2, 3, 4 ]')
    expect(await result('let y = 5\ny', id)).toBe('5')
    const session = (await api('GET', `/sessions/${id}`)).body as Session
    expect(session.status).toBe('active')
    expect(session.cells).toHaveLength(5)
  })

  it('keeps sessions apart from each other and from one-off cells', async () => {
    const a = await newSession()
    const b = await newSession()
    await result('let secret = "a"', a.id)
    expect(await result('typeof secret', b.id)).toBe("'undefined'")
    expect(await result('typeof secret')).toBe("'undefined'")
    expect(await result('secret', a.id)).toBe("'a'")
  })

  it('runs the cells of one session one at a time, in the order sent', async () => {
    const { id } = await newSession()
    await result('order = []', id)
    const codes = ['await new Promise((r) => setTimeout(r, 300)); order.push(1)', 'order.push(2)', 'order.push(3)']
    const ids: string[] = []
    for (const code of codes) ids.push((await api('POST', '/cells', { code, session: id })).body.id)
    const jobs = await Promise.all(ids.map(async (jobId) => {
      for await (const ev of readEvents(`${cluster.url}/api/v1/cells/${jobId}/events`)) if (ev.event === 'done') return ev.data as Job
      throw new Error('stream ended without done')
    }))
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done', 'done'])
    // Each started after the one before it ended.
    for (let i = 1; i < jobs.length; i++) expect(Date.parse(jobs[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(jobs[i - 1]!.endedAt!))
    expect(await result('order.join()', id)).toBe("'1,2,3'")
  })

  it('ends on DELETE: later cells get 409 session_ended', async () => {
    const { id } = await newSession()
    await result('kept = 1', id)
    const deleted = await api('DELETE', `/sessions/${id}`)
    expect(deleted.body).toMatchObject({ status: 'ended', endReason: expect.stringMatching(/ended by its client/) })
    const refused = await api('POST', '/cells', { code: 'kept', session: id })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('session_ended')
    expect((await api('POST', '/cells', { code: '1', session: 'nosuchsession01' })).status).toBe(404)
  })

  it('limits the sessions of one client: 429 past the limit', async () => {
    for (let i = 0; i < 3; i++) await newSession()
    const refused = await api('POST', '/sessions')
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('too_many_sessions')
  })

  /** The session once it has ended (polled: the sweep or the dispatcher's report ends it). */
  async function endedSession(id: string): Promise<Session> {
    const read = async () => (await api('GET', `/sessions/${id}`)).body as Session
    await expect.poll(async () => (await read()).status, { interval: 100 }).toBe('ended')
    return read()
  }

  it('ends a session left idle past its idle timeout', async () => {
    const { id } = await newSession()
    await result('kept = 1', id)
    const session = await endedSession(id)
    expect(session.endReason).toMatch(/idle/)
    expect((await api('POST', '/cells', { code: 'kept', session: id })).status).toBe(409)
  })

  it('when its sandbox is killed: the running cell ends lost, the session ends with the reason, the next cell gets 409', async () => {
    const { id } = await newSession()
    await result('kept = 1', id)
    const spinning = (await api('POST', '/cells', { code: "console.log('spinning'); while (true) {}", session: id, timeoutMs: 30_000 })).body as Job
    for await (const ev of readEvents(`${cluster.url}/api/v1/cells/${spinning.id}/events`)) if (ev.event === 'output') break
    for (const pid of cluster.sandboxPids()) process.kill(pid, 'SIGKILL')

    let job: Job | undefined
    for await (const ev of readEvents(`${cluster.url}/api/v1/cells/${spinning.id}/events`)) if (ev.event === 'done') job = ev.data as Job
    expect(job).toMatchObject({ status: 'lost', error: { name: 'SandboxLost' } })
    expect(job!.error!.message).toMatch(/sandbox holding this session died/)

    const session = await endedSession(id)
    expect(session.endReason).toMatch(/sandbox holding this session died/)
    const refused = await api('POST', '/cells', { code: 'kept', session: id })
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatchObject({ code: 'session_ended', message: expect.stringMatching(/sandbox holding this session died/) })

    // A new session on the replacement sandbox starts empty, as a new session should.
    await cluster.healthy()
    const fresh = await newSession()
    expect(await result('typeof kept', fresh.id)).toBe("'undefined'")
  })
})
