/**
 * Logging in with a password and managing keys in a real browser against a
 * real cellgate: an admin makes an account with a known password (ADMIN_KEY);
 * the person logs in on /login, the bar names them; on /keys they make a
 * sub-key, read its secret once (and copy it), see it work against the API,
 * revoke it (after confirming) and see it refused; their cells show on
 * /mine; logging out leaves the page anonymous. A notebook saved without
 * logging in is saved again with the key the browser kept for it.
 *
 *   chromium --POST /login, GET /me, GET/POST/DELETE /keys (cookie + X-Cellgate-CSRF)--> server
 *   test     --GET /me with Bearer <the new secret>----------------------------------> server
 */
import { expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import type { MeView } from '../../protocol/index.ts'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { ADMIN_KEY, withKey } from '../support/principals.ts'

const PASSWORD = 'correct horse battery staple'

describeWith(chromiumMissing(), 'logging in and keys in a browser', () => {
  const browser = useBrowser()
  const cluster = useCluster()

  async function makeAccount(name: string): Promise<void> {
    const res = await fetch(`${cluster.url}/api/v1/accounts`, { method: 'POST', headers: withKey(ADMIN_KEY, { 'content-type': 'application/json' }), body: JSON.stringify({ name, password: PASSWORD }) })
    expect(res.status).toBe(201)
  }

  async function logIn(page: Page, name: string): Promise<void> {
    await page.goto(`${cluster.url}/login`)
    await page.getByLabel('Name').fill(name)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('navigation', { name: 'Account' }).getByText(`Logged in as ${name}`).waitFor()
  }

  /** Who a request with this key acts for, asked by the test itself (not the page). */
  async function meWith(secret: string): Promise<{ status: number; me: MeView | null }> {
    const res = await fetch(`${cluster.url}/api/v1/me`, { headers: withKey(secret) })
    return { status: res.status, me: res.ok ? ((await res.json()) as MeView) : null }
  }

  it('logs in, makes a sub-key and reads its secret once, revokes it, lists my cells, logs out', async () => {
    const page = browser.page
    await makeAccount('ada')
    await page.goto(`${cluster.url}/login`)
    await page.getByLabel('Name').fill('ada')
    await page.getByLabel('Password').fill('not the password at all')
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('the name or the password is wrong')

    await logIn(page, 'ada')
    await expect.poll(() => new URL(page.url()).pathname).toBe('/mine')
    // The login key sits in an HttpOnly cookie: no script of the page can read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('cellgate_login')

    await page.getByRole('link', { name: 'Keys' }).click()
    const form = page.getByRole('form', { name: 'New key' })
    await form.getByLabel('Name').fill('grader')
    await form.getByRole('checkbox', { name: 'notebooks:read' }).check()
    await form.getByLabel('Expires').selectOption({ label: 'In 1 day' })
    await form.getByRole('button', { name: 'Make the key' }).click()

    const shown = page.getByRole('region', { name: 'Secret of grader' })
    const secret = (await shown.locator('.secret-once__secret').textContent())!
    expect(secret).toMatch(/^cg_sk_[\w-]{43}$/)
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: cluster.url })
    await shown.getByRole('button', { name: 'Copy' }).click()
    await shown.getByText('Copied.').waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)

    const { me } = await meWith(secret)
    expect(me).toMatchObject({ anonymous: false, account: { name: 'ada' }, key: { name: 'grader', scopes: ['cells:run', 'notebooks:read'] } })
    const grader = page.getByRole('listitem', { name: 'Key grader' })
    await grader.waitFor()
    expect(await grader.textContent()).toContain('cells:run, notebooks:read')
    expect(await grader.textContent()).toContain('expires')

    // Once dismissed, the secret is nowhere on the page, nor after a reload.
    await shown.getByRole('button', { name: 'I have copied it' }).click()
    expect(await page.content()).not.toContain(secret)
    await page.reload()
    await grader.waitFor()
    expect(await page.content()).not.toContain(secret)

    await grader.getByRole('button', { name: 'Revoke' }).click()
    await grader.getByRole('group', { name: 'Confirm revoking grader' }).getByRole('button', { name: 'Yes, revoke' }).click()
    await expect.poll(() => grader.textContent()).toContain('revoked')
    expect((await meWith(secret)).status).toBe(401)

    // A cell run while logged in is the account's.
    await page.goto(cluster.url)
    await page.getByRole('button', { name: 'Run' }).click()
    await page.locator('[data-status=done]').waitFor()
    await page.getByRole('link', { name: 'Mine' }).click()
    const cells = page.getByRole('list', { name: 'My recent cells' })
    await expect.poll(() => cells.getByRole('listitem').count()).toBe(1)

    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Log in' }).waitFor()
    const after = await page.evaluate(async () => (await fetch('/api/v1/me')).json())
    expect(after).toMatchObject({ anonymous: true })
  })

  it('shows why the server refuses a new key, and no secret', async () => {
    const page = browser.page
    await makeAccount('bob')
    await logIn(page, 'bob')
    await page.goto(`${cluster.url}/keys`)
    const form = page.getByRole('form', { name: 'New key' })
    await form.getByLabel('Name').fill('one notebook')
    await form.getByLabel('Restricted to').selectOption({ label: 'one notebook' })
    await form.getByLabel("The notebook's id").fill('not an id')
    await form.getByRole('button', { name: 'Make the key' }).click()
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('resource')
    expect(await page.getByRole('region', { name: /^Secret of/ }).count()).toBe(0)
  })

  it('saves a notebook made without logging in again with the key it came with', async () => {
    const page = browser.page
    // The suite's tests share one browser profile: no login of an earlier test may linger.
    await browser.context.clearCookies()
    await page.goto(`${cluster.url}/notebooks/new`)
    await page.getByRole('textbox', { name: 'Notebook title' }).fill('First title')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/notebooks\/[\w-]{12}$/)
    const id = new URL(page.url()).pathname.split('/').pop()!
    const key = await page.evaluate((nb) => localStorage.getItem(`cellgate.notebook-key.${nb}`), id)
    expect(key).toMatch(/^cg_sk_/)

    await page.getByRole('textbox', { name: 'Notebook title' }).fill('Second title')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(async () => ((await (await fetch(`${cluster.url}/api/v1/notebooks/${id}`)).json()) as { title: string }).title).toBe('Second title')
    expect(await page.getByRole('alert').count()).toBe(0)
  })
})
