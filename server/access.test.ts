/**
 * Who may use what, in-process over real SQLite (issue 12, item 5): a
 * session of an account is its keys' alone, and nothing a cell's permalink
 * shows grants its use; private cells are their owner's; a key's caps bound
 * what a cell asks and lower its defaults; the limit of sessions counts per
 * account; CELLGATE_ANONYMOUS=off needs a key for everything but reading by
 * permalink; the admin routes need `admin`; the dispatcher gets each cell's
 * fair-share account (an account's, or an anonymous caller's address).
 *
 *   ada's key ──POST /sessions──> session S (owner ada)
 *   bob's key / anonymous ──POST /cells {session: S}──> 404, as if S did not exist
 *   anyone ──GET /cells/:id (a cell of S)──> session: null
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CreatedKeyView, JobView, MessageOf, ServerMessage, SessionView } from '../protocol/index.ts'
import { ADMIN_KEY, withKey } from '../test/support/principals.ts'
import { inProcessServer, type InProcessServer } from '../test/support/server.ts'
import type { TestConfigInput } from '../test/support/config.ts'

let s: InProcessServer
afterEach(async () => {
  await s?.close()
})

const json = { 'content-type': 'application/json' }

function call(method: string, path: string, key?: string, body?: unknown, ip = '10.0.0.1'): Promise<Response> {
  const type = body === undefined ? {} : json
  const init: RequestInit = { method, headers: key === undefined ? type : withKey(key, type), ...(body !== undefined && { body: JSON.stringify(body) }) }
  return Promise.resolve(s.app.request(`/api/v1${path}`, init, { incoming: { socket: { remoteAddress: ip } } }))
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } }
  return { status: res.status, ...body.error }
}

async function setUp(config: TestConfigInput = {}): Promise<{ ada: string; bob: string }> {
  s = await inProcessServer(config)
  const account = async (name: string) => ((await (await call('POST', '/accounts', ADMIN_KEY, { name })).json()) as CreatedKeyView).secret
  return { ada: await account('ada'), bob: await account('bob') }
}

async function subKey(parent: string, body: object): Promise<string> {
  const res = await call('POST', '/keys', parent, { name: 'sub', ...body })
  expect(res.status).toBe(201)
  return ((await res.json()) as CreatedKeyView).secret
}

const submits = () => s.link.sent.filter((m): m is MessageOf<ServerMessage, 'submit'> => m.type === 'submit')

describe('owners and checks', () => {
  it('keeps an account\'s session to its keys: strangers and anonymous callers get 404, a cell\'s permalink shows no session', async () => {
    const { ada, bob } = await setUp()
    const session = (await (await call('POST', '/sessions', ada)).json()) as SessionView
    const cell = await call('POST', '/cells', ada, { code: 'x = 1', session: session.id })
    expect(cell.status).toBe(202)
    const cellId = ((await cell.json()) as JobView).id

    for (const stranger of [bob, undefined]) {
      expect(await errorOf(await call('POST', '/cells', stranger, { code: 'x', session: session.id }))).toMatchObject({ status: 404 })
      expect(await errorOf(await call('GET', `/sessions/${session.id}`, stranger))).toMatchObject({ status: 404 })
      expect(await errorOf(await call('DELETE', `/sessions/${session.id}`, stranger))).toMatchObject({ status: 404 })
      const view = (await (await call('GET', `/cells/${cellId}`, stranger)).json()) as JobView
      expect(view.session).toBeNull()
    }
    expect(((await (await call('GET', `/cells/${cellId}`, ada)).json()) as JobView).session).toBe(session.id)
    expect((await call('GET', `/sessions/${session.id}`, ada)).status).toBe(200)
    expect(submits()).toHaveLength(1)
  })

  it('lets a key restricted to one session run cells there and nothing else; a key without sessions:use gets 403', async () => {
    const { ada } = await setUp()
    const session = (await (await call('POST', '/sessions', ada)).json()) as SessionView
    const other = (await (await call('POST', '/sessions', ada)).json()) as SessionView
    const pinned = await subKey(ada, { scopes: ['sessions:use'], resource: { kind: 'session', id: session.id } })
    expect((await call('POST', '/cells', pinned, { code: '1', session: session.id })).status).toBe(202)
    expect(await errorOf(await call('POST', '/cells', pinned, { code: '1', session: other.id }))).toMatchObject({ status: 403, message: expect.stringContaining(session.id) })
    expect(await errorOf(await call('POST', '/cells', pinned, { code: '1' }))).toMatchObject({ status: 403 })
    expect(await errorOf(await call('POST', '/sessions', pinned))).toMatchObject({ status: 403 })
    const runner = await subKey(ada, { scopes: ['cells:run'] })
    expect(await errorOf(await call('POST', '/cells', runner, { code: '1', session: session.id }))).toMatchObject({ status: 403, message: expect.stringContaining('sessions:use') })
  })

  it('keeps a private cell to its owner\'s keys, and lets only them cancel a cell of theirs', async () => {
    const { ada, bob } = await setUp()
    const hidden = ((await (await call('POST', '/cells', ada, { code: '1', private: true })).json()) as JobView).id
    for (const stranger of [bob, undefined]) {
      for (const path of [`/cells/${hidden}`, `/cells/${hidden}/events`]) expect((await call('GET', path, stranger)).status).toBe(404)
      expect((await call('POST', `/cells/${hidden}/cancel`, stranger)).status).toBe(404)
    }
    expect((await call('GET', `/cells/${hidden}`, ada)).status).toBe(200)
    expect(await errorOf(await call('POST', '/cells', undefined, { code: '1', private: true }))).toMatchObject({ status: 401 })

    const shared = ((await (await call('POST', '/cells', ada, { code: '1' })).json()) as JobView).id
    expect((await call('GET', `/cells/${shared}`)).status).toBe(200)
    expect(await errorOf(await call('POST', `/cells/${shared}/cancel`, bob))).toMatchObject({ status: 403 })
    expect((await call('POST', `/cells/${shared}/cancel`, ada)).status).toBeLessThan(300)
  })

  it('refuses a cell asking more than its key\'s cap, and runs one asking nothing with the cap as its default', async () => {
    const { ada } = await setUp()
    const capped = await subKey(ada, { scopes: ['cells:run', 'sessions:use'], caps: { wallMs: 2_000, memoryMb: 32 } })
    expect(await errorOf(await call('POST', '/cells', capped, { code: '1', timeoutMs: 5_000 }))).toMatchObject({ status: 403, message: expect.stringMatching(/wallMs up to 2000/) })
    expect((await call('POST', '/cells', capped, { code: '1' })).status).toBe(202)
    expect(submits().at(-1)?.job.limits).toMatchObject({ wallMs: 2_000, memoryMb: 32 })
    expect(await errorOf(await call('POST', '/sessions', capped, { memoryMb: 64 }))).toMatchObject({ status: 403 })
    expect(((await (await call('POST', '/sessions', capped)).json()) as SessionView).memoryMb).toBe(32)
  })

  it('counts the limit of active sessions per account, wherever its requests come from; anonymous callers per address', async () => {
    const { ada } = await setUp({ sessions: { maxPerClient: 2 } })
    expect((await call('POST', '/sessions', ada, undefined, '10.0.0.1')).status).toBe(201)
    expect((await call('POST', '/sessions', ada, undefined, '10.0.0.2')).status).toBe(201)
    expect(await errorOf(await call('POST', '/sessions', ada, undefined, '10.0.0.3'))).toMatchObject({ status: 429, code: 'too_many_sessions', message: expect.stringContaining('this account') })
    expect((await call('POST', '/sessions', undefined, undefined, '10.0.0.1')).status).toBe(201)
  })

  it('tells the dispatcher whose turn each cell takes: its account\'s for all of its keys, an anonymous caller\'s address', async () => {
    const { ada, bob } = await setUp()
    const runner = await subKey(ada, { scopes: ['cells:run'] })
    const cells: JobView[] = []
    for (const [key, ip] of [[ada, '10.0.0.1'], [runner, '10.0.0.2'], [bob, '10.0.0.1'], [undefined, '10.0.0.1'], [undefined, '10.0.0.2']] as const) {
      const res = await call('POST', '/cells', key, { code: '1' }, ip)
      expect(res.status).toBe(202)
      cells.push((await (await call('GET', `/cells/${((await res.json()) as JobView).id}`, key)).json()) as JobView)
    }
    const [adaId, bobId] = [cells[0]!.owner, cells[2]!.owner]
    expect(adaId).not.toBe(bobId)
    expect(submits().map((m) => m.job.account)).toEqual([adaId, adaId, bobId, 'anonymous:10.0.0.1', 'anonymous:10.0.0.2'])
    // The account is the dispatcher's alone: a cell's view does not show it.
    for (const cell of cells) expect(cell).not.toHaveProperty('account')
  })

  it('with CELLGATE_ANONYMOUS=off needs a key to run anything, yet a permalink stays readable', async () => {
    const { ada } = await setUp({ auth: { anonymous: 'off' } })
    const refused = await call('POST', '/cells', undefined, { code: '1' })
    expect(await errorOf(refused)).toMatchObject({ status: 401, code: 'unauthenticated', message: expect.stringContaining('cells:run') })
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/)
    for (const path of ['/sessions', '/notebooks']) expect((await call('POST', path, undefined, path === '/notebooks' ? { cells: [] } : undefined)).status).toBe(401)
    const id = ((await (await call('POST', '/cells', ada, { code: '1' })).json()) as JobView).id
    expect((await call('GET', `/cells/${id}`)).status).toBe(200)
  })

  it('opens the workers and metrics to admins only', async () => {
    const { ada } = await setUp()
    expect((await call('GET', '/workers')).status).toBe(401)
    expect((await call('GET', '/workers', ada)).status).toBe(403)
    expect((await call('GET', '/workers', ADMIN_KEY)).status).toBe(503) // allowed; no dispatcher answers in-process
    expect((await s.app.request('/metrics', { headers: withKey(ada) })).status).toBe(403)
    expect((await s.app.request('/metrics', { headers: withKey(ADMIN_KEY) })).status).toBe(200)
  })
})
