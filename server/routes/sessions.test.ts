/**
 * The sessions resource in-process (`app.request()`), over a real SQLite
 * store and a recording dispatcher link; the test plays the dispatcher.
 *
 *   client                          server                      (RecordingLink)
 *     POST /sessions ─────────────>  201 {id, status: active, links}
 *     POST /cells {code, session} ─> submit {job, session: {id, cell: n}}
 *     DELETE /sessions/:id ───────>  endSession {session}; later cells 409
 *                                    <── sessionEnded {session, reason}: ended, 409 with the reason
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MessageOf, ServerMessage } from '../../protocol/index.ts'
import type { SessionView } from '../../protocol/index.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer
afterEach(async () => {
  await s?.close()
})

const json = { 'content-type': 'application/json' }

async function createSession(body?: object, ip = '10.0.0.1'): Promise<Response> {
  const init: RequestInit = { method: 'POST', ...(body && { headers: json, body: JSON.stringify(body) }) }
  return s.app.request('/api/v1/sessions', init, { incoming: { socket: { remoteAddress: ip } } })
}

async function newSession(): Promise<SessionView> {
  const res = await createSession()
  expect(res.status).toBe(201)
  return (await res.json()) as SessionView
}

async function sessionOf(id: string): Promise<SessionView> {
  return (await (await s.app.request(`/api/v1/sessions/${id}`)).json()) as SessionView
}

function cell(session: string, code = '1', extra: object = {}): Promise<Response> {
  return Promise.resolve(s.app.request('/api/v1/cells', { method: 'POST', headers: json, body: JSON.stringify({ code, session, ...extra }) }))
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } }
  return { status: res.status, ...body.error }
}

const submits = () => s.link.sent.filter((m): m is MessageOf<ServerMessage, 'submit'> => m.type === 'submit')
const endSessions = () => s.link.sent.filter((m) => m.type === 'endSession')

describe('sessions API', () => {
  it('creates a session (body optional), shows it, and numbers the cells sent to it', async () => {
    s = await inProcessServer({ sessions: { idleMs: 60_000, maxLifeMs: 120_000 } })
    const res = await createSession()
    expect(res.status).toBe(201)
    const created = (await res.json()) as SessionView
    expect(res.headers.get('location')).toBe(`/api/v1/sessions/${created.id}`)
    expect(created).toMatchObject({ status: 'active', endReason: null, endedAt: null, memoryMb: 64, cells: [], links: { self: `/api/v1/sessions/${created.id}`, cells: '/api/v1/cells' } })
    expect(Date.parse(created.expiresAt!) - Date.parse(created.lastUsedAt)).toBe(60_000)

    const ids: string[] = []
    for (const code of ['x = 41', 'x + 1']) {
      const r = await cell(created.id, code)
      expect(r.status).toBe(202)
      ids.push(((await r.json()) as { id: string }).id)
    }
    expect(submits().map((m) => m.job.session)).toEqual([{ id: created.id, cell: 1 }, { id: created.id, cell: 2 }])
    expect((await sessionOf(created.id)).cells).toEqual(ids)
    // A cell's permalink does not show an anonymous session's id: the id is all it takes to use the session.
    const job = (await (await s.app.request(`/api/v1/cells/${ids[0]}`)).json()) as { session: string | null }
    expect(job.session).toBeNull()
  })

  it('runs every cell of a session with the session\'s memory limit, and refuses one of its own', async () => {
    s = await inProcessServer()
    const res = await createSession({ memoryMb: 128 })
    const { id } = (await res.json()) as SessionView
    await cell(id)
    expect(submits()[0]!.job.limits.memoryMb).toBe(128)
    expect(await errorOf(await cell(id, '1', { memoryMb: 32 }))).toMatchObject({ status: 400, code: 'validation_failed' })
    expect(await errorOf(await createSession({ memoryMb: 1 }))).toMatchObject({ status: 400, code: 'validation_failed' })
  })

  it('answers 404 for an unknown session and 409 session_ended, with the reason, for an ended one', async () => {
    s = await inProcessServer()
    expect(await errorOf(await cell('nosuchsession01'))).toMatchObject({ status: 404, code: 'not_found' })
    expect((await s.app.request('/api/v1/sessions/nosuchsession01')).status).toBe(404)
    expect((await s.app.request('/api/v1/sessions/..%2F..', { method: 'DELETE' })).status).toBe(404)

    const { id } = await newSession()
    const deleted = await s.app.request(`/api/v1/sessions/${id}`, { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toMatchObject({ id, status: 'ended', endReason: expect.stringMatching(/ended by its client/), expiresAt: null })
    expect(endSessions()).toEqual([{ type: 'endSession', session: id }])
    const refused = await errorOf(await cell(id))
    expect(refused).toMatchObject({ status: 409, code: 'session_ended' })
    expect(refused.message).toMatch(/ended by its client/)
    // Deleting again changes nothing and tells the dispatcher nothing more.
    expect((await s.app.request(`/api/v1/sessions/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect(endSessions()).toHaveLength(1)
  })

  it('limits active sessions per client: 429 too_many_sessions, room again once one ends', async () => {
    s = await inProcessServer({ sessions: { maxPerClient: 2 } })
    const first = await newSession()
    await newSession()
    const refused = await errorOf(await createSession())
    expect(refused).toMatchObject({ status: 429, code: 'too_many_sessions' })
    expect(refused.message).toMatch(/2 active sessions/)
    expect((await createSession(undefined, '10.0.0.2')).status).toBe(201)
    await s.app.request(`/api/v1/sessions/${first.id}`, { method: 'DELETE' })
    expect((await createSession()).status).toBe(201)
  })

  it('ends a session idle too long, on the next read and in the sweep, and tells the dispatcher', async () => {
    s = await inProcessServer({ sessions: { idleMs: 100, maxLifeMs: 60_000 } })
    const read = await newSession()
    const swept = await newSession()
    const later = Date.now() + 1_000
    expect(await s.sessions.expire(later)).toBe(2)
    expect(endSessions().map((m) => m.type === 'endSession' && m.session).sort()).toEqual([read.id, swept.id].sort())
    expect(await sessionOf(swept.id)).toMatchObject({ status: 'ended', endReason: expect.stringMatching(/idle/) })
    expect(await errorOf(await cell(read.id))).toMatchObject({ status: 409, code: 'session_ended' })
  })

  it('ends a session past its maximum lifespan however busy it is', async () => {
    s = await inProcessServer({ sessions: { idleMs: 60_000, maxLifeMs: 100 } })
    const { id } = await newSession()
    const res = await cell(id)
    expect(res.status).toBe(202)
    expect(await s.sessions.expire(Date.now() + 1_000)).toBe(1)
    expect(await sessionOf(id)).toMatchObject({ status: 'ended', endReason: expect.stringMatching(/maximum lifespan/) })
  })

  it('ends a session when the dispatcher says its context was lost; its cells then get 409 with the reason', async () => {
    s = await inProcessServer()
    const { id } = await newSession()
    s.link.deliver([{ type: 'sessionEnded', session: id, reason: 'the sandbox holding this session died (killed)' }])
    await s.jobs.idle()
    expect(await sessionOf(id)).toMatchObject({ status: 'ended', endReason: 'the sandbox holding this session died (killed)' })
    const refused = await errorOf(await cell(id))
    expect(refused).toMatchObject({ status: 409, code: 'session_ended' })
    expect(refused.message).toMatch(/sandbox holding this session died/)
  })

  it('ends a session whose running cell the sweep gives up on', async () => {
    s = await inProcessServer({ dispatcher: { graceMs: 100 } })
    const { id } = await newSession()
    const { id: jobId } = (await (await cell(id, '1', { timeoutMs: 10 })).json()) as { id: string }
    s.link.deliver([{ type: 'started', jobId, msgSeq: 1, bootId: 'boot-1', sandboxId: 'sb-1' }])
    await s.jobs.idle()
    expect(await s.jobs.sweepStale(Date.now() + 10_000)).toBe(1)
    expect(await sessionOf(id)).toMatchObject({ status: 'ended', endReason: expect.stringMatching(/lost/) })
  })
})
