/**
 * Logging in with OpenID Connect, in-process against a real provider
 * (oidc-provider on a loopback port, test/support/oidc-provider.ts): the
 * login page learns whether to offer it; the start sends the browser to
 * the provider with PKCE, state and nonce, sealed in an HttpOnly cookie;
 * a callback with a wrong state, no cookie or an altered one, or a
 * provider that cannot be reached, ends on the login page with why, and
 * is audited. (The whole flow through the provider's pages, in Chromium,
 * is test/browser/oidc-login.test.ts.)
 *
 *   browser ──GET /login/oidc──────────> 302 provider/auth?code_challenge&state&nonce, Set-Cookie cellgate_oidc
 *   browser ──GET /login/oidc/callback─> 302 /login?error=<why>   (bad state, no flow cookie)
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditPageView, LoginMethodsView } from '../../protocol/index.ts'
import { startOidcProvider, type TestOidcProvider, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET } from '../../test/support/oidc-provider.ts'
import { ADMIN_KEY, withKey } from '../../test/support/principals.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'
import { accountNameFrom, safeNext } from '../principals/oidc-login.ts'

const REDIRECT = 'http://127.0.0.1:8080/api/v1/login/oidc/callback'

let s: InProcessServer | undefined
let provider: TestOidcProvider | undefined
afterEach(async () => {
  await s?.close()
  await provider?.close()
  s = provider = undefined
})

async function withProvider(issuer?: string): Promise<InProcessServer> {
  provider = await startOidcProvider(REDIRECT)
  s = await inProcessServer({ auth: { oidc: { issuer: issuer ?? provider.issuer, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, redirectUrl: REDIRECT } } })
  return s
}

/** Where a redirect sends the browser, and the message the login page would show. */
function landing(res: Response): { path: string; error: string | null } {
  expect(res.status).toBe(302)
  const url = new URL(res.headers.get('Location')!, 'http://cellgate.test')
  return { path: url.pathname, error: url.searchParams.get('error') }
}

async function failedLogins(server: InProcessServer): Promise<AuditPageView['records']> {
  const page = (await (await server.app.request('/api/v1/audit', { headers: withKey(ADMIN_KEY) })).json()) as AuditPageView
  return page.records.filter((r) => r.action === 'login.failed')
}

describe('OpenID Connect login routes', () => {
  it('are not there without configuration, and the login page is told so', async () => {
    s = await inProcessServer()
    expect(await (await s.app.request('/api/v1/login/methods')).json()).toEqual({ password: true, oidc: null } satisfies LoginMethodsView)
    const res = await s.app.request('/api/v1/login/oidc')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('sends the browser to the provider with PKCE, state and nonce sealed in an HttpOnly cookie', async () => {
    const server = await withProvider()
    expect(await (await server.app.request('/api/v1/login/methods')).json()).toEqual({ password: true, oidc: { issuer: provider!.issuer } })
    const res = await server.app.request('/api/v1/login/oidc?next=/keys')
    expect(res.status).toBe(302)
    const to = new URL(res.headers.get('Location')!)
    expect(to.origin).toBe(provider!.issuer)
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      client_id: OIDC_CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', code_challenge_method: 'S256', scope: 'openid profile email',
    })
    for (const param of ['code_challenge', 'state', 'nonce']) expect(to.searchParams.get(param)).toMatch(/^[\w-]{20,}$/)
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cellgate_oidc='))!
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/Path=\/api\/v1\/login\/oidc/)
    expect(cookie).toMatch(/SameSite=Lax/)
    // Sealed: neither the verifier nor the state can be read from it.
    expect(decodeURIComponent(cookie)).not.toContain(to.searchParams.get('state')!)
  })

  it('ends a callback with a wrong state, without its cookie or with an altered one on the login page, saying why, audited', async () => {
    const server = await withProvider()
    const started = await server.app.request('/api/v1/login/oidc')
    const flow = started.headers.getSetCookie().find((c) => c.startsWith('cellgate_oidc='))!.split(';')[0]!
    const state = new URL(started.headers.get('Location')!).searchParams.get('state')!
    // The provider names itself in its redirects (RFC 9207), as a real one would.
    const iss = `iss=${encodeURIComponent(provider!.issuer)}`

    const wrongState = await server.app.request(`/api/v1/login/oidc/callback?code=abc&state=not-the-state&${iss}`, { headers: { Cookie: flow } })
    expect(landing(wrongState)).toEqual({ path: '/login', error: expect.stringMatching(/state/) })
    expect(wrongState.headers.getSetCookie().some((c) => c.startsWith('cellgate_login='))).toBe(false)

    const noCookie = await server.app.request(`/api/v1/login/oidc/callback?code=abc&state=${state}&${iss}`)
    expect(landing(noCookie).error).toMatch(/not started here: please log in again/)
    const altered = `${flow.slice(0, -4)}AAAA`
    expect(landing(await server.app.request(`/api/v1/login/oidc/callback?code=abc&state=${state}&${iss}`, { headers: { Cookie: altered } })).error).toMatch(/log in again/)

    // The provider's own refusal (the person declined) is shown in its words.
    const declined = await server.app.request(`/api/v1/login/oidc/callback?error=access_denied&error_description=declined&state=${state}&${iss}`, { headers: { Cookie: flow } })
    expect(landing(declined).error).toMatch(/access_denied: declined/)

    const failures = await failedLogins(server)
    expect(failures).toHaveLength(4)
    expect(failures.every((r) => r.detail.method === 'oidc')).toBe(true)
  })

  it('ends on the login page when the provider cannot be reached', async () => {
    const server = await withProvider('http://127.0.0.1:9/')
    expect(landing(await server.app.request('/api/v1/login/oidc'))).toEqual({ path: '/login', error: expect.stringContaining('cannot be reached') })
  })
})

describe('OIDC login helpers', () => {
  it('names an account after what the provider says, within account names', () => {
    expect(accountNameFrom({ preferred_username: 'Ada Lovelace' })).toBe('Ada-Lovelace')
    expect(accountNameFrom({ email: 'ada@example.org' })).toBe('ada@example.org')
    expect(accountNameFrom({ preferred_username: '  ', email: 7 })).toBe('user')
    expect(accountNameFrom({ preferred_username: 'anonymous' })).toBe('user')
  })

  it('lands only on paths of this app after logging in', () => {
    expect(safeNext('/keys')).toBe('/keys')
    for (const next of [undefined, 'https://evil.example', '//evil.example', '/\\evil.example', 'keys']) expect(safeNext(next)).toBe('/')
  })
})
