/**
 * Logging in with OpenID Connect end to end: a real provider (oidc-provider,
 * test/support/oidc-provider.ts) on a loopback port, a real cellgate
 * configured with it, and Chromium going through the login page's "Log in
 * with …", the provider's login and consent pages, and back, logged in to
 * an account made for that person (its name from preferred_username, the
 * next free one when taken). A second login finds the same account;
 * declining at the provider comes back to the login page saying so.
 *
 *   chromium --/login "Log in with"--> cellgate /api/v1/login/oidc --302--> provider /auth
 *   chromium --login, consent-------> provider --302--> cellgate /api/v1/login/oidc/callback
 *   cellgate --token (code + PKCE verifier)--> provider;  cellgate --302 + login cookies--> chromium
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import type { AuditPageView, MeView } from '../../protocol/index.ts'
import { chromiumMissing, useBrowser } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.ts'
import { ADMIN_KEY, withKey } from '../support/principals.ts'
import { freePort, startTestCluster, type TestCluster } from '../support/test-cluster.ts'

describeWith(chromiumMissing(), 'logging in with OpenID Connect in a browser', () => {
  const browser = useBrowser()
  let provider: TestOidcProvider
  let cluster: TestCluster

  beforeAll(async () => {
    // The provider must know cellgate's redirect URL before cellgate starts with the provider's issuer.
    const port = await freePort()
    provider = await startOidcProvider(`http://127.0.0.1:${port}/api/v1/login/oidc/callback`)
    cluster = await startTestCluster({ PORT: String(port), ...provider.env })
  })
  afterAll(async () => {
    await cluster?.close()
    await provider?.close()
  })

  /** From cellgate's login page to the provider's login form, as "ada", and its consent page. */
  async function throughProvider(page: Page, login: string, consent: 'Continue' | 'abort'): Promise<void> {
    await page.goto(`${cluster.url}/login?next=/keys`)
    await page.getByRole('link', { name: `Log in with ${new URL(provider.issuer).host}` }).click()
    await page.waitForURL((url) => url.origin === provider.issuer)
    await page.locator('input[name=login]').fill(login)
    await page.locator('input[name=password]').fill('any password: the provider\'s development login takes any')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    if (consent === 'Continue') await page.getByRole('button', { name: 'Continue' }).click()
    else await page.getByRole('link', { name: /Cancel/ }).click()
    await page.waitForURL((url) => url.origin === cluster.url)
  }

  const me = (page: Page) => page.evaluate(async () => (await fetch('/api/v1/me')).json() as Promise<MeView>)

  it('goes through the provider\'s login and consent and lands logged in, on an account made for the person', async () => {
    const page = browser.page
    await throughProvider(page, 'ada.lovelace', 'Continue')
    await expect.poll(() => new URL(page.url()).pathname).toBe('/keys')
    await page.getByRole('navigation', { name: 'Account' }).getByText('Logged in as ada.lovelace').waitFor()
    expect(await me(page)).toMatchObject({ anonymous: false, account: { name: 'ada.lovelace', role: 'user', login: { password: false, oidc: true } }, key: { kind: 'login' } })
    // Logged in like a password login: the Keys page works, unsafe requests with the CSRF token.
    await page.getByRole('listitem', { name: 'Key web login' }).waitFor()

    const audit = (await (await fetch(`${cluster.url}/api/v1/audit`, { headers: withKey(ADMIN_KEY) })).json()) as AuditPageView
    expect(audit.records.find((r) => r.action === 'login')).toMatchObject({ detail: { method: 'oidc' } })

    // A second login of the same person finds the same account.
    const first = (await me(page)) as Extract<MeView, { anonymous: false }>
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Log in' }).waitFor()
    // The provider's session too (same host: cookies do not tell ports apart), so it asks for the login again.
    await browser.context.clearCookies()
    await throughProvider(page, 'ada.lovelace', 'Continue')
    await page.getByRole('navigation', { name: 'Account' }).getByText('Logged in as ada.lovelace').waitFor()
    expect(((await me(page)) as Extract<MeView, { anonymous: false }>).account.id).toBe(first.account.id)
  })

  it('names the account of a person whose name is taken with the next free one, never taking over the account of that name', async () => {
    const page = browser.page
    await browser.context.clearCookies()
    const made = await fetch(`${cluster.url}/api/v1/accounts`, {
      method: 'POST', headers: withKey(ADMIN_KEY, { 'content-type': 'application/json' }), body: JSON.stringify({ name: 'linus', password: 'a password of the other linus' }),
    })
    const other = ((await made.json()) as { account: { id: string } }).account
    await throughProvider(page, 'linus', 'Continue')
    await page.getByRole('navigation', { name: 'Account' }).getByText('Logged in as linus-2').waitFor()
    const mine = (await me(page)) as Extract<MeView, { anonymous: false }>
    expect(mine.account).toMatchObject({ name: 'linus-2', login: { oidc: true, password: false } })
    expect(mine.account.id).not.toBe(other.id)
  })

  it('comes back to the login page saying why when the person declines at the provider', async () => {
    const page = browser.page
    await browser.context.clearCookies()
    await throughProvider(page, 'grace', 'abort')
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login')
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('access_denied')
    expect(await me(page)).toMatchObject({ anonymous: true })
  })
})
