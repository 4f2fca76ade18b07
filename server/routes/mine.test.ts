/**
 * "My notebooks" and "my recent cells" in-process over real SQLite: an
 * account lists what it made, newest first, by key or by its login cookie;
 * anonymous callers are refused with 401, a key restricted to one notebook
 * (an anonymous notebook's key among them) with 403, and another account's
 * things never show. Beside them, what the web client's Keys page relies
 * on: a cookie-signed key creation needs the CSRF token, and a login
 * cookie that stopped working is cleared with its 401.
 *
 *   client ──GET /notebooks?mine=1──> 200 {notebooks: [summary…]}   (listNotebooksByOwner)
 *   client ──GET /cells?mine=1──────> 200 {cells: [summary…]}       (listJobsByOwner)
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { AccountView, CreatedKeyView, JobSummaryView, NotebookSummaryView } from '../../protocol/index.ts'
import { ADMIN_KEY, logIn, withKey } from '../../test/support/principals.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer
afterEach(async () => {
  await s?.close()
})

const json = { 'content-type': 'application/json' }
const PASSWORD = 'correct horse battery staple'

async function call(method: string, path: string, { key, body, headers = {} }: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const init = { method, headers: { ...json, ...(key ? withKey(key) : {}), ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) }
  return s.app.request(`/api/v1${path}`, init)
}

async function newAccount(name: string): Promise<{ account: AccountView } & CreatedKeyView> {
  const res = await call('POST', '/accounts', { key: ADMIN_KEY, body: { name, password: PASSWORD } })
  expect(res.status).toBe(201)
  return (await res.json()) as { account: AccountView } & CreatedKeyView
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  return { status: res.status, ...((await res.json()) as { error: { code: string; message: string } }).error }
}

describe('my notebooks and my recent cells, and the login cookie they are read with', () => {
  it('lists the account its own notebooks and cells, newest first, and nobody else\'s', async () => {
    s = await inProcessServer()
    const ada = await newAccount('ada')
    const bob = await newAccount('bob')
    for (const title of ['first', 'second']) expect((await call('POST', '/notebooks', { key: ada.secret, body: { title, cells: [{ code: '1' }, { code: '2' }] } })).status).toBe(201)
    await call('POST', '/notebooks', { key: bob.secret, body: { title: 'bob\'s', cells: [] } })
    await call('POST', '/notebooks', { body: { title: 'anonymous', cells: [] } })
    for (const code of ['6 * 7', 'x'.repeat(300)]) expect((await call('POST', '/cells', { key: ada.secret, body: { code } })).status).toBe(202)
    await call('POST', '/cells', { key: bob.secret, body: { code: 'bob' } })

    const notebooks = (await (await call('GET', '/notebooks?mine=1', { key: ada.secret })).json()) as { notebooks: NotebookSummaryView[] }
    expect(notebooks.notebooks.map((n) => [n.title, n.cellCount])).toEqual([['second', 2], ['first', 2]])
    expect(notebooks.notebooks[0]).not.toHaveProperty('cells')
    expect(notebooks.notebooks[0]!.links.page).toBe(`/notebooks/${notebooks.notebooks[0]!.id}`)

    // The web client's way: the login cookie (a GET needs no CSRF token).
    const { cookie } = await logIn(s.app, 'ada', PASSWORD)
    const cells = (await (await call('GET', '/cells?mine=1', { headers: { Cookie: cookie } })).json()) as { cells: JobSummaryView[] }
    expect(cells.cells.map((c) => c.code)).toEqual(['x'.repeat(200), '6 * 7'])
    expect(cells.cells[1]).toMatchObject({ status: 'queued', links: { self: `/api/v1/cells/${cells.cells[1]!.id}` } })
    expect(cells.cells[1]).not.toHaveProperty('outputs')
  })

  it('refuses anonymous callers with 401, a key for one notebook with 403, and a listing of everyone\'s with 400', async () => {
    s = await inProcessServer()
    for (const path of ['/notebooks?mine=1', '/cells?mine=1']) {
      const res = await call('GET', path)
      expect(await errorOf(res)).toMatchObject({ status: 401, code: 'unauthenticated', message: expect.stringContaining('log in') })
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/)
    }
    // An anonymous notebook's key belongs to the server's `anonymous` account: it must not list every anonymous notebook.
    const made = (await (await call('POST', '/notebooks', { body: { title: 'mine', cells: [] } })).json()) as { key: string }
    expect(await errorOf(await call('GET', '/notebooks?mine=1', { key: made.key }))).toMatchObject({ status: 403, code: 'forbidden' })
    expect(await errorOf(await call('GET', '/notebooks', { key: ADMIN_KEY }))).toMatchObject({ status: 400, message: expect.stringContaining('mine=1') })
    expect(await errorOf(await call('GET', '/cells', { key: ADMIN_KEY }))).toMatchObject({ status: 400, message: expect.stringContaining('mine=1') })
  })

  it('refuses a cookie-signed key creation without the CSRF token, and makes it with the token', async () => {
    s = await inProcessServer()
    await newAccount('ada')
    const { cookie, csrf } = await logIn(s.app, 'ada', PASSWORD)
    const body = { name: 'grader', scopes: ['cells:run'] }
    expect(await errorOf(await call('POST', '/keys', { body, headers: { Cookie: cookie } }))).toMatchObject({ status: 403, message: expect.stringContaining('X-Cellgate-CSRF') })
    const made = await call('POST', '/keys', { body, headers: { Cookie: cookie, 'X-Cellgate-CSRF': csrf } })
    expect(made.status).toBe(201)
    expect(((await made.json()) as CreatedKeyView).key.scopes).toEqual(['cells:run'])
  })

  it('clears a login cookie that stopped working with its 401, so the browser can log in again', async () => {
    s = await inProcessServer()
    await newAccount('ada')
    const { cookie, csrf } = await logIn(s.app, 'ada', PASSWORD)
    const me = (await (await call('GET', '/me', { headers: { Cookie: cookie } })).json()) as { key: { id: string } }
    // Revoked through the Keys page's "this login", which leaves the cookie in place.
    expect((await call('DELETE', `/keys/${me.key.id}`, { headers: { Cookie: cookie, 'X-Cellgate-CSRF': csrf } })).status).toBe(200)
    const refused = await call('GET', '/me', { headers: { Cookie: cookie } })
    expect(refused.status).toBe(401)
    const cleared = refused.headers.getSetCookie()
    for (const name of ['cellgate_login', 'cellgate_csrf']) expect(cleared.find((c) => c.startsWith(`${name}=;`)), name).toMatch(/Max-Age=0/)
    expect((await logIn(s.app, 'ada', PASSWORD)).res.status).toBe(200)
  })
})
