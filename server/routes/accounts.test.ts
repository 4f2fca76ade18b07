/**
 * Accounts, logins and the audit log in-process over real SQLite: admins
 * make and disable accounts; a person logs in with a password and gets an
 * HttpOnly login cookie and a CSRF token that unsafe requests must echo;
 * logging out or disabling the account stops the login; each of these is in
 * the audit log, which admins read page by page.
 *
 *   admin ──POST /accounts {name, password}──> 201 {account, key, secret}
 *   page  ──POST /login {name, password}─────> Set-Cookie cellgate_login (HttpOnly), cellgate_csrf
 *   page  ──PUT … Cookie + X-Cellgate-CSRF──> as the account; without the header 403
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AccountView, AuditPageView, CreatedKeyView, MeView } from '../../protocol/index.ts'
import { LOGIN_ATTEMPTS, MAX_VERIFYING } from '../principals/login-service.ts'
import { ADMIN_KEY, logIn, withKey, type LoggedIn } from '../../test/support/principals.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer
afterEach(async () => {
  vi.useRealTimers()
  await s?.close()
})

const json = { 'content-type': 'application/json' }
const PASSWORD = 'correct horse battery staple'

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(s.app.request(`/api/v1${path}`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) }))
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } }
  return { status: res.status, ...body.error }
}

async function newAccount(name: string, password = PASSWORD): Promise<{ account: AccountView } & CreatedKeyView> {
  const res = await post('/accounts', { name, password }, withKey(ADMIN_KEY))
  expect(res.status).toBe(201)
  return (await res.json()) as { account: AccountView } & CreatedKeyView
}

function login(name: string, password = PASSWORD): Promise<LoggedIn> {
  return logIn(s.app, name, password)
}

describe('accounts and logins', () => {
  it('makes an account with a first key for admins only; a taken name is 409', async () => {
    s = await inProcessServer()
    const ada = await newAccount('ada')
    expect(ada.account).toMatchObject({ name: 'ada', role: 'user', login: { password: true, oidc: false }, disabledAt: null })
    expect(ada.key.scopes).not.toContain('admin')
    expect(await errorOf(await post('/accounts', { name: 'ada' }, withKey(ADMIN_KEY)))).toMatchObject({ status: 409, code: 'conflict' })
    expect(await errorOf(await post('/accounts', { name: 'eve' }, withKey(ada.secret)))).toMatchObject({ status: 403, message: expect.stringContaining('admin') })
    expect(await errorOf(await post('/accounts', { name: 'eve' }))).toMatchObject({ status: 401 })
    expect(await errorOf(await post('/accounts', { name: 'short', password: 'short' }, withKey(ADMIN_KEY)))).toMatchObject({ status: 400, message: expect.stringMatching(/^password:/) })
    const me = (await (await s.app.request('/api/v1/me', { headers: withKey(ada.secret) })).json()) as MeView
    expect(me).toMatchObject({ anonymous: false, account: { name: 'ada' }, key: { id: ada.key.id } })
    expect(await (await s.app.request('/api/v1/me')).json()).toEqual({ anonymous: true, scopes: ['cells:run', 'sessions:use', 'notebooks:read', 'notebooks:write'] })
  })

  it('logs in with a password into an HttpOnly cookie; unsafe requests need the CSRF token; logout ends it', async () => {
    s = await inProcessServer()
    await newAccount('ada')
    const { cookie, csrf, res } = await login('ada')
    expect(res.status).toBe(200)
    const setCookies = res.headers.getSetCookie()
    expect(setCookies.find((c) => c.startsWith('cellgate_login='))).toMatch(/HttpOnly/i)
    expect(setCookies.find((c) => c.startsWith('cellgate_login='))).toMatch(/SameSite=Lax/i)
    expect(setCookies.find((c) => c.startsWith('cellgate_csrf='))).not.toMatch(/HttpOnly/i)

    const me = (await (await s.app.request('/api/v1/me', { headers: { Cookie: cookie } })).json()) as MeView
    expect(me).toMatchObject({ anonymous: false, account: { name: 'ada' }, key: { kind: 'login' } })
    const asPage = (headers: Record<string, string>) => post('/notebooks', { cells: [] }, { Cookie: cookie, ...headers })
    expect(await errorOf(await asPage({}))).toMatchObject({ status: 403, code: 'forbidden', message: expect.stringContaining('X-Cellgate-CSRF') })
    expect(await errorOf(await asPage({ 'X-Cellgate-CSRF': 'guess' }))).toMatchObject({ status: 403 })
    const made = await asPage({ 'X-Cellgate-CSRF': csrf })
    expect(made.status).toBe(201)
    expect(((await made.json()) as { key?: string }).key).toBeUndefined()

    expect((await post('/logout', {}, { Cookie: cookie, 'X-Cellgate-CSRF': csrf })).status).toBe(200)
    expect(await errorOf(await s.app.request('/api/v1/me', { headers: { Cookie: cookie } }))).toMatchObject({ status: 401 })
  })

  it('a login manages its account\'s keys: a key made while logged in outlives the login', async () => {
    s = await inProcessServer()
    const ada = await newAccount('ada')
    const { cookie, csrf } = await login('ada')
    const asLogin = { Cookie: cookie, 'X-Cellgate-CSRF': csrf }
    const made = await post('/keys', { name: 'script', scopes: ['cells:run'] }, asLogin)
    expect(made.status).toBe(201)
    const script = (await made.json()) as CreatedKeyView
    expect(script.key).toMatchObject({ parentId: null, expiresAt: null, scopes: ['cells:run'] })
    expect(await errorOf(await post('/keys', { name: 'too much', scopes: ['admin'] }, asLogin))).toMatchObject({ status: 403, message: expect.stringMatching(/^scopes:/) })

    const listed = (await (await s.app.request('/api/v1/keys', { headers: { Cookie: cookie } })).json()) as { keys: { id: string }[] }
    expect(listed.keys.map((k) => k.id)).toEqual(expect.arrayContaining([ada.key.id, script.key.id]))
    await post('/logout', {}, asLogin)
    expect((await s.app.request('/api/v1/me', { headers: withKey(script.secret) })).status).toBe(200)

    // A new login revokes any key of the account, and none of another's.
    const again = await login('ada')
    const revoke = (id: string) => s.app.request(`/api/v1/keys/${id}`, { method: 'DELETE', headers: { Cookie: again.cookie, 'X-Cellgate-CSRF': again.csrf } })
    expect((await revoke(script.key.id)).status).toBe(200)
    expect((await s.app.request('/api/v1/me', { headers: withKey(script.secret) })).status).toBe(401)
    const adminKeys = (await (await s.app.request('/api/v1/keys', { headers: withKey(ADMIN_KEY) })).json()) as { keys: { id: string }[] }
    expect((await revoke(adminKeys.keys[0]!.id)).status).toBe(404)
  })

  it('refuses a wrong password and an unknown name alike, and a flood of attempts with 429', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    s = await inProcessServer()
    await newAccount('ada')
    const wrong = await errorOf((await login('ada', 'not the password')).res)
    const unknown = await errorOf((await login('nobody')).res)
    expect(wrong).toEqual(unknown)
    expect(wrong).toMatchObject({ status: 401, code: 'unauthenticated' })
    for (let i = 2; i < LOGIN_ATTEMPTS; i++) await login('ada', 'guess')
    const flood = (await login('ada')).res
    expect(await errorOf(flood)).toMatchObject({ status: 429, code: 'rate_limited' })
    expect(Number(flood.headers.get('retry-after'))).toBeGreaterThan(0)
    vi.setSystemTime(Date.now() + Number(flood.headers.get('retry-after')) * 1000)
    expect((await login('ada')).res.status).toBe(200)
  })

  it('checks at most MAX_VERIFYING passwords at once, from any addresses, refusing the rest with 429 and Retry-After', async () => {
    s = await inProcessServer()
    await newAccount('ada')
    const from = (ip: string) => s.app.request('/api/v1/login', { method: 'POST', headers: json, body: JSON.stringify({ name: 'ada', password: PASSWORD }) }, { incoming: { socket: { remoteAddress: ip } } })
    const answers = await Promise.all(Array.from({ length: 5 * MAX_VERIFYING }, (_, i) => from(`10.0.1.${i}`)))
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((st) => st === 200).length).toBeGreaterThanOrEqual(1)
    expect(statuses.filter((st) => st === 200).length).toBeLessThanOrEqual(MAX_VERIFYING)
    expect(statuses.every((st) => st === 200 || st === 429)).toBe(true)
    for (const busy of answers.filter((r) => r.status === 429)) {
      expect(busy.headers.get('retry-after')).toBe('1')
      expect(await errorOf(busy)).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('at once') })
    }
    // Once they are done, the next one is checked.
    expect((await from('10.0.2.1')).status).toBe(200)
  })

  it('disabling an account stops its keys and its logins at once', async () => {
    s = await inProcessServer()
    const ada = await newAccount('ada')
    const { cookie } = await login('ada')
    const disabled = await post(`/accounts/${ada.account.id}/disable`, {}, withKey(ADMIN_KEY))
    expect(((await disabled.json()) as AccountView).disabledAt).not.toBeNull()
    expect((await s.app.request('/api/v1/me', { headers: withKey(ada.secret) })).status).toBe(401)
    expect((await s.app.request('/api/v1/me', { headers: { Cookie: cookie } })).status).toBe(401)
    expect((await login('ada')).res.status).toBe(401)
    expect(await errorOf(await post('/accounts/nosuch/disable', {}, withKey(ADMIN_KEY)))).toMatchObject({ status: 404 })
  })

  it('records keys, logins, failures and account changes in the audit log, read by admins page by page', async () => {
    // A millisecond apart each, so the log's order (time, then id) is the order they were done in.
    vi.useFakeTimers({ toFake: ['Date'] })
    s = await inProcessServer()
    const step = () => vi.setSystemTime(Date.now() + 1)
    const ada = await newAccount('ada')
    step()
    await login('ada')
    step()
    await login('ada', 'wrong password')
    step()
    await post('/keys', { name: 'k', scopes: ['cells:run'] }, withKey(ada.secret))
    step()
    await post(`/accounts/${ada.account.id}/disable`, {}, withKey(ADMIN_KEY))

    expect(await errorOf(await s.app.request('/api/v1/audit', { headers: withKey(ada.secret) }))).toMatchObject({ status: 401 })
    const seen: AuditPageView['records'] = []
    let before: string | null = null
    do {
      const page = (await (await s.app.request(`/api/v1/audit?limit=2${before ? `&before=${before}` : ''}`, { headers: withKey(ADMIN_KEY) })).json()) as AuditPageView
      seen.push(...page.records)
      before = page.next
    } while (before !== null)
    expect(seen.map((r) => r.action).reverse()).toEqual(['account.created', 'login', 'login.failed', 'key.created', 'account.disabled'])
    expect(seen.find((r) => r.action === 'login.failed')).toMatchObject({ accountId: null, detail: { name: 'ada', reason: 'wrong password' } })
    expect(seen.find((r) => r.action === 'key.created')).toMatchObject({ accountId: ada.account.id, keyId: ada.key.id })
    expect(await errorOf(await s.app.request('/api/v1/audit?before=garbage', { headers: withKey(ADMIN_KEY) }))).toMatchObject({ status: 400 })
    expect(await errorOf(await s.app.request('/api/v1/audit?limit=0', { headers: withKey(ADMIN_KEY) }))).toMatchObject({ status: 400 })
  })
})
