/**
 * The keys resource in-process over real SQLite: a key sees and manages its
 * own tree only, sub-keys only narrow (403 naming the dimension), secrets
 * are shown once, and revoking a key refuses its whole subtree at once.
 *
 *   admin key ──POST /keys {scopes…}──> 201 {key, secret}   (child)
 *   child     ──POST /keys {wider}────> 403 forbidden "scopes: …"
 *   admin key ──DELETE /keys/:child──> child and grandchild 401 from then on
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CreatedKeyView, KeyView } from '../../protocol/index.ts'
import { ADMIN_KEY, withKey } from '../../test/support/principals.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer
afterEach(async () => {
  await s?.close()
})

const json = { 'content-type': 'application/json' }

function keys(method: string, key: string | undefined, body?: unknown, path = ''): Promise<Response> {
  const headers = key === undefined ? json : withKey(key, json)
  return Promise.resolve(s.app.request(`/api/v1/keys${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) }))
}

async function make(parent: string, body: object): Promise<CreatedKeyView> {
  const res = await keys('POST', parent, body)
  expect(res.status).toBe(201)
  return (await res.json()) as CreatedKeyView
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } }
  return { status: res.status, ...body.error }
}

const runCell = (key: string) => s.app.request('/api/v1/cells', { method: 'POST', headers: withKey(key, json), body: JSON.stringify({ code: '1' }) })

describe('keys API', () => {
  it('makes a sub-key within its parent, shows its secret once, and lists the tree without secrets', async () => {
    s = await inProcessServer()
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const child = await make(ADMIN_KEY, { name: 'grader', scopes: ['cells:run', 'keys:manage'], expiresAt, caps: { wallMs: 2_000 } })
    expect(child.secret).toMatch(/^cg_sk_[\w-]{43}$/)
    expect(child.key).toMatchObject({ name: 'grader', kind: 'secret', scopes: ['cells:run', 'keys:manage'], expiresAt, caps: { wallMs: 2_000 }, prefix: child.secret.slice(0, 12) })
    expect((await runCell(child.secret)).status).toBe(202)

    const listed = (await (await keys('GET', ADMIN_KEY)).json()) as { keys: KeyView[] }
    expect(listed.keys.map((k) => k.name)).toEqual(['bootstrap (CELLGATE_BOOTSTRAP_KEY)', 'grader'])
    expect(JSON.stringify(listed)).not.toContain(child.secret)
    // The child sees itself and what is below it, never its parent.
    const grandchild = await make(child.secret, { name: 'one week', scopes: ['cells:run'] })
    const fromChild = (await (await keys('GET', child.secret)).json()) as { keys: KeyView[] }
    expect(fromChild.keys.map((k) => k.id)).toEqual([child.key.id, grandchild.key.id])
    expect(fromChild.keys[1]).toMatchObject({ parentId: child.key.id, expiresAt, caps: { wallMs: 2_000 } })
  })

  it.each([
    ['a scope the parent lacks', { scopes: ['cells:run', 'admin'] }, 'scopes'],
    ['no expiry under a parent that expires', { expiresAt: null }, 'window'],
    ['a later expiry', { expiresAt: Date.now() + 7_200_000 }, 'window'],
    ['a higher cap', { caps: { wallMs: 2_001 } }, 'caps'],
  ])('refuses a sub-key with %s, naming the dimension', async (_name, wider, dimension) => {
    s = await inProcessServer()
    const parent = await make(ADMIN_KEY, { name: 'p', scopes: ['cells:run', 'keys:manage'], expiresAt: Date.now() + 3_600_000, caps: { wallMs: 2_000 } })
    const refused = await errorOf(await keys('POST', parent.secret, { name: 'wider', ...wider }))
    expect(refused).toMatchObject({ status: 403, code: 'forbidden' })
    expect(refused.message.startsWith(`${dimension}:`)).toBe(true)
  })

  it('refuses sub-keys to a key without keys:manage, and a resource outside the parent\'s', async () => {
    s = await inProcessServer()
    const runner = await make(ADMIN_KEY, { name: 'runner', scopes: ['cells:run'] })
    expect(await errorOf(await keys('POST', runner.secret, { name: 'x', scopes: ['cells:run'] }))).toMatchObject({ status: 403, message: expect.stringContaining('keys:manage') })
    const folder = await make(ADMIN_KEY, { name: 'folder', scopes: ['content:read', 'keys:manage'], resource: { kind: 'content', prefix: '/course' } })
    expect((await keys('POST', folder.secret, { name: 'deeper', resource: { kind: 'content', prefix: '/course/week1' } })).status).toBe(201)
    expect(await errorOf(await keys('POST', folder.secret, { name: 'beside', resource: { kind: 'content', prefix: '/courses' } }))).toMatchObject({ status: 403, message: expect.stringMatching(/^resource:/) })
    expect(await errorOf(await keys('POST', folder.secret, { name: 'anything', resource: null }))).toMatchObject({ status: 403, message: expect.stringMatching(/^resource:/) })
  })

  it('refuses bad requests with 400 naming the field, and anonymous callers with 401', async () => {
    s = await inProcessServer()
    expect(await errorOf(await keys('POST', ADMIN_KEY, { name: 'x', scopes: ['root'] }))).toMatchObject({ status: 400, message: expect.stringMatching(/^scopes\.0:/) })
    expect(await errorOf(await keys('POST', ADMIN_KEY, { name: 'x', resource: { kind: 'content', prefix: '/a/../b' } }))).toMatchObject({ status: 400, message: expect.stringMatching(/^resource\.prefix:/) })
    expect(await errorOf(await keys('POST', ADMIN_KEY, { name: 'x', origins: ['javascript:alert(1)'] }))).toMatchObject({ status: 400 })
    expect(await errorOf(await keys('POST', ADMIN_KEY, { name: '' }))).toMatchObject({ status: 400, message: expect.stringMatching(/^name:/) })
    const anonymous = await keys('GET', undefined)
    expect(await errorOf(anonymous)).toMatchObject({ status: 401, code: 'unauthenticated' })
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="cellgate"/)
  })

  it('makes a publishable key only with origins and only for running cells and sessions', async () => {
    s = await inProcessServer()
    expect(await errorOf(await keys('POST', ADMIN_KEY, { name: 'page', kind: 'publishable', scopes: ['cells:run'] }))).toMatchObject({ status: 403, message: expect.stringMatching(/^origins:/) })
    expect(await errorOf(await keys('POST', ADMIN_KEY, { name: 'page', kind: 'publishable', scopes: ['cells:run', 'notebooks:write'], origins: ['https://course.example'] })))
      .toMatchObject({ status: 403, message: expect.stringMatching(/^scopes:/) })
    const page = await make(ADMIN_KEY, { name: 'page', kind: 'publishable', scopes: ['cells:run'], origins: ['https://course.example'] })
    expect(page.secret).toMatch(/^cg_pk_/)
    const from = (origin?: string) => s.app.request('/api/v1/cells', { method: 'POST', headers: withKey(page.secret, { ...json, ...(origin && { Origin: origin }) }), body: '{"code":"1"}' })
    expect((await from('https://course.example')).status).toBe(202)
    expect(await errorOf(await from('https://evil.example'))).toMatchObject({ status: 403, message: expect.stringContaining('https://evil.example') })
    expect(await errorOf(await from())).toMatchObject({ status: 403, code: 'forbidden' })
  })

  it('revokes a key with its subtree at once, not its parent; a key outside the caller\'s tree is not found', async () => {
    s = await inProcessServer()
    const a = await make(ADMIN_KEY, { name: 'a', scopes: ['cells:run', 'keys:manage'] })
    const b = await make(a.secret, { name: 'b' })
    const c = await make(b.secret, { name: 'c', scopes: ['cells:run'] })
    const sibling = await make(ADMIN_KEY, { name: 'sibling', scopes: ['cells:run', 'keys:manage'] })

    expect(await errorOf(await keys('DELETE', sibling.secret, undefined, `/${b.key.id}`))).toMatchObject({ status: 404 })
    expect(await errorOf(await keys('DELETE', c.secret, undefined, `/${b.key.id}`))).toMatchObject({ status: 404 })
    const revoked = await keys('DELETE', a.secret, undefined, `/${b.key.id}`)
    expect(revoked.status).toBe(200)
    expect(((await revoked.json()) as KeyView).revokedAt).not.toBeNull()
    for (const gone of [b, c]) expect(await errorOf(await runCell(gone.secret))).toMatchObject({ status: 401, code: 'unauthenticated' })
    expect((await runCell(a.secret)).status).toBe(202)
    // A key may revoke itself.
    expect((await keys('DELETE', sibling.secret, undefined, `/${sibling.key.id}`)).status).toBe(200)
    expect((await runCell(sibling.secret)).status).toBe(401)
    expect(await errorOf(await keys('DELETE', ADMIN_KEY, undefined, '/not-an-id'))).toMatchObject({ status: 404 })
  })

  it('answers 401 for a malformed Authorization header or an unknown key, never treating it as anonymous', async () => {
    s = await inProcessServer()
    for (const header of ['Bearer', 'Token abc', `Bearer ${'x'.repeat(10_000)}`, 'Basic !!!', 'Bearer cg_sk_unknown']) {
      const res = await s.app.request('/api/v1/cells', { method: 'POST', headers: { ...json, Authorization: header }, body: '{"code":"1"}' })
      expect(res.status).toBe(401)
    }
    // A key as the password of Basic auth, as WebDAV clients send it.
    const basic = `Basic ${Buffer.from(`anyone:${ADMIN_KEY}`).toString('base64')}`
    expect((await s.app.request('/api/v1/keys', { headers: { Authorization: basic } })).status).toBe(200)
  })
})
