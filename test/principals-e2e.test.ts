/**
 * Keys, owners and their refusals end to end, with real processes: two web
 * instances on one MongoDB-protocol store (a real FerretDB, or MONGODB_URI)
 * and one dispatcher. Instance 2 runs with CELLGATE_ANONYMOUS=off, so the
 * two show both modes on the same data.
 *
 *   client --> instance 1 (anonymous may run) --\
 *                                                +--> one store, one dispatcher --> sandboxes
 *   client --> instance 2 (CELLGATE_ANONYMOUS=off) --/
 *
 * Both run with the default CELLGATE_KEY_CACHE_MS of 0, so a key revoked
 * through one instance is refused by the other on its very next request.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startProcess, waitHealthy, type ManagedProcess } from '../bin/cluster.ts'
import { mongoMissing, startTestMongo, type TestMongo } from './support/ferretdb.ts'
import { describeWith } from './support/needs.ts'
import { ADMIN_KEY } from './support/principals.ts'
import { freePort, startTestCluster, type TestCluster } from './support/test-cluster.ts'

interface Answer {
  status: number
  body: { error?: { code: string; message: string } } & Record<string, unknown>
  headers: Headers
}

interface CallOptions {
  key?: string
  body?: unknown
  headers?: Record<string, string>
}

async function call(base: string, method: string, path: string, { key, body, headers = {} }: CallOptions = {}): Promise<Answer> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }), ...(key && { authorization: `Bearer ${key}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers }
}

describeWith(mongoMissing, 'keys, owners and refusals across two web instances', () => {
  let mongo: TestMongo
  let cluster: TestCluster
  let second: ManagedProcess
  let one: string
  let two: string

  beforeAll(async () => {
    mongo = await startTestMongo()
    cluster = await startTestCluster({ MONGODB_URI: mongo.uri, CELLGATE_MONGODB_DB: mongo.newDbName(), CELLGATE_SERVER_ID: 'server-1' })
    one = cluster.url
    const port = await freePort()
    two = `http://127.0.0.1:${port}`
    second = startProcess('server', { ...process.env, ...cluster.env, PORT: String(port), CELLGATE_SERVER_ID: 'server-2', CELLGATE_ANONYMOUS: 'off' }, { supervise: false, stdio: 'ignore' })
    await waitHealthy(two)
  })
  afterAll(async () => {
    await second?.stop()
    await cluster?.close()
    await mongo?.close()
  })

  const cell = (base: string, options: CallOptions & { code?: string; session?: string } = {}) =>
    call(base, 'POST', '/cells?wait=true', { ...options, body: { code: options.code ?? '6 * 7', ...(options.session && { session: options.session }) } })

  async function subKey(base: string, parent: string, request: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const made = await call(base, 'POST', '/keys', { key: parent, body: request })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    return { id: (made.body.key as { id: string }).id, secret: made.body.secret as string }
  }

  async function account(name: string, password?: string): Promise<{ id: string; secret: string }> {
    const made = await call(one, 'POST', '/accounts', { key: ADMIN_KEY, body: { name, ...(password && { password }) } })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    return { id: (made.body.account as { id: string }).id, secret: made.body.secret as string }
  }

  it('revokes the middle of a three-level key tree on instance 1, and instance 2 refuses its child at once while the top still works', async () => {
    const a = await subKey(one, ADMIN_KEY, { name: 'A', scopes: ['cells:run', 'sessions:use', 'keys:manage'] })
    const b = await subKey(two, a.secret, { name: 'B', scopes: ['cells:run', 'keys:manage'] })
    const c = await subKey(one, b.secret, { name: 'C', scopes: ['cells:run'] })
    for (const key of [a, b, c]) expect((await cell(two, { key: key.secret })).body).toMatchObject({ status: 'done', result: { text: '42' } })

    // Narrowing only: B cannot give C what B lacks, and C cannot make keys at all.
    const wider = await call(one, 'POST', '/keys', { key: b.secret, body: { name: 'wider', scopes: ['sessions:use'] } })
    expect(wider).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: 'scopes: the parent key does not have the scope sessions:use' } } })
    expect((await call(two, 'POST', '/keys', { key: c.secret, body: { name: 'D' } })).status).toBe(403)
    const tree = await call(two, 'GET', '/keys', { key: a.secret })
    expect((tree.body.keys as { name: string }[]).map((k) => k.name)).toEqual(['A', 'B', 'C'])

    const revoked = await call(one, 'DELETE', `/keys/${b.id}`, { key: a.secret })
    expect(revoked.status).toBe(200)
    expect(revoked.body.revokedAt).toEqual(expect.any(String))

    for (const key of [c, b]) {
      const refused = await cell(two, { key: key.secret })
      expect(refused.status).toBe(401)
      expect(refused.body.error?.code).toBe('unauthenticated')
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="cellgate"/)
      expect((await cell(one, { key: key.secret })).status).toBe(401)
    }
    expect((await cell(two, { key: a.secret })).body).toMatchObject({ status: 'done', result: { text: '42' } })
    const after = await call(two, 'GET', '/keys', { key: a.secret })
    expect((after.body.keys as { name: string; revokedAt: string | null }[]).map((k) => [k.name, k.revokedAt !== null])).toEqual([['A', false], ['B', true], ['C', true]])
  })

  it("keeps a session its owner's: another account's key and anonymous callers get 404, on either instance", async () => {
    const ada = await account('ada-sessions')
    const bob = await account('bob-sessions')
    const made = await call(one, 'POST', '/sessions', { key: ada.secret })
    expect(made.status).toBe(201)
    const id = made.body.id as string
    expect((await cell(two, { key: ada.secret, code: 'x = 41', session: id })).body).toMatchObject({ status: 'done' })
    const own = await cell(one, { key: ada.secret, code: 'x + 1', session: id })
    expect(own.body).toMatchObject({ status: 'done', result: { text: '42' }, session: id })

    for (const base of [one, two]) {
      for (const key of [bob.secret, undefined]) {
        const who = `${base === one ? 'instance 1' : 'instance 2'}, ${key ? 'bob' : 'anonymous'}`
        if (key === undefined && base === two) continue // anonymous may do nothing there: 401 before any session is looked at
        expect((await call(base, 'GET', `/sessions/${id}`, { key })).status, who).toBe(404)
        expect((await cell(base, { key, code: 'x', session: id })).status, who).toBe(404)
        expect((await call(base, 'DELETE', `/sessions/${id}`, { key })).status, who).toBe(404)
        // The cell's permalink is readable by anyone, and does not show whose session it ran in.
        const view = await call(base, 'GET', `/cells/${own.body.id as string}`, { key })
        expect(view.status, who).toBe(200)
        expect(view.body.session, who).toBeNull()
      }
    }
    expect((await call(two, 'GET', `/sessions/${id}`, { key: ada.secret })).body).toMatchObject({ status: 'active' })
  })

  it('lets a notebook be written by its owner only: a stranger\'s key gets 403, a cross-origin page without the key 401 or 403', async () => {
    const ada = await account('ada-notebooks', 'notebook password 1')
    const bob = await account('bob-notebooks')
    const made = await call(one, 'POST', '/notebooks', { key: ada.secret, body: { title: 'mine', cells: [{ code: '1' }] } })
    expect(made.status).toBe(201)
    const id = made.body.id as string
    const save = (base: string, options: CallOptions, title: string) => call(base, 'PUT', `/notebooks/${id}`, { ...options, body: { title, cells: [] } })

    expect((await save(two, { key: ada.secret }, 'saved by ada')).status).toBe(200)
    const stranger = await save(one, { key: bob.secret }, 'bob was here')
    expect(stranger).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } })

    const page = { Origin: 'http://127.0.0.1:9' }
    const keyless = await save(one, { headers: page }, 'a page was here')
    expect(keyless.status).toBe(401)
    expect(keyless.headers.get('www-authenticate')).toMatch(/^Bearer /)
    // Ada is logged in, and a page of another origin gets her browser to send her login cookie:
    // without the CSRF token, which only cellgate's own pages can read, it is refused.
    const login = await fetch(`${one}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada-notebooks', password: 'notebook password 1' }) })
    expect(login.status).toBe(200)
    const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]!)
    const csrf = cookies.find((c) => c.startsWith('cellgate_csrf='))!.slice('cellgate_csrf='.length)
    const forged = await save(two, { headers: { ...page, Cookie: cookies.join('; ') } }, 'forged')
    expect(forged).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } })
    expect(forged.body.error?.message).toContain('X-Cellgate-CSRF')
    expect((await save(two, { headers: { Cookie: cookies.join('; '), 'X-Cellgate-CSRF': csrf } }, 'saved in the web client')).status).toBe(200)

    // Readable by its permalink, by anyone, with what the owner saved last.
    const read = await call(one, 'GET', `/notebooks/${id}`, { headers: page })
    expect(read).toMatchObject({ status: 200, body: { title: 'saved in the web client' } })
  })

  it('refuses a publishable key from an origin not on its list, naming the origin', async () => {
    const course = await account('course')
    const listed = 'https://course.example.org'
    const key = await subKey(one, course.secret, { name: 'course pages', kind: 'publishable', origins: [listed], scopes: ['cells:run', 'sessions:use'] })
    expect(key.secret).toMatch(/^cg_pk_/)

    for (const base of [one, two]) {
      expect((await cell(base, { key: key.secret, headers: { Origin: listed } })).body).toMatchObject({ status: 'done', owner: course.id })
      const elsewhere = await cell(base, { key: key.secret, headers: { Origin: 'https://copycat.example.com' } })
      expect(elsewhere).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: 'the key may not be used from https://copycat.example.com' } } })
      expect((await cell(base, { key: key.secret })).status).toBe(403)
      // Only cells and sessions: a publishable key reads no notebook list, makes no keys.
      expect((await call(base, 'POST', '/keys', { key: key.secret, headers: { Origin: listed }, body: { name: 'sub' } })).status).toBe(403)
    }
    expect((await call(one, 'POST', '/sessions', { key: key.secret, headers: { Origin: listed } })).status).toBe(201)
    const wide = await call(one, 'POST', '/keys', { key: course.secret, body: { name: 'too wide', kind: 'publishable', origins: [listed], scopes: ['notebooks:write'] } })
    expect(wide).toMatchObject({ status: 403, body: { error: { message: expect.stringContaining('publishable') } } })
  })

  it('with CELLGATE_ANONYMOUS=off refuses an anonymous cell with 401 and WWW-Authenticate, runs a keyed one, and still serves permalinks', async () => {
    const anonymous = await cell(two)
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } })
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="cellgate", charset="UTF-8"')
    expect((await call(two, 'POST', '/sessions')).status).toBe(401)

    const keyed = await cell(two, { key: ADMIN_KEY })
    expect(keyed.body).toMatchObject({ status: 'done', result: { text: '42' } })
    // Instance 1, on the same store, lets anonymous callers run; both serve every cell's permalink.
    const open = await cell(one)
    expect(open.body).toMatchObject({ status: 'done', owner: 'anonymous' })
    for (const id of [keyed.body.id, open.body.id]) expect((await call(two, 'GET', `/cells/${id as string}`)).status).toBe(200)
  })
})
