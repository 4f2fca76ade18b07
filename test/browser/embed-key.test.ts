/**
 * Embedded cells with a publishable key (data-cellgate-key): one page,
 * served from two loopback origins, on a cellgate where anonymous callers
 * may run nothing (CELLGATE_ANONYMOUS=off), so a cell runs only if the
 * embed sends the key and the key allows the page's origin.
 *
 *   page on 127.0.0.1:A --Authorization: Bearer cg_pk_… , Origin: A--> cellgate: runs (A is listed)
 *   page on 127.0.0.1:B --Authorization: Bearer cg_pk_… , Origin: B--> cellgate: 403 naming B
 *
 * The script tag's key serves every cell; a cell element's own key serves
 * that cell (here one listing only B).
 */
import { createServer, type Server } from 'node:http'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chromiumMissing, useBrowser } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { withKey } from '../support/principals.ts'
import { ADMIN_KEY } from '../support/principals.ts'
import { freePort, startTestCluster, type TestCluster } from '../support/test-cluster.ts'

function hostPage(cellgate: string, pageKey: string, cellKey: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>course page</title></head><body>
<div data-cellgate>6 * 7</div>
<div data-cellgate data-cellgate-session="demo">x = 41</div>
<div data-cellgate data-cellgate-session="demo">x + 1</div>
<div data-cellgate data-cellgate-key="${cellKey}">'its own key'</div>
<script src="${cellgate}/embed.js" data-cellgate-key="${pageKey}"></script>
</body></html>`
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const port = await freePort()
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${port}` }
}

describeWith(chromiumMissing(), 'embedded cells with a publishable key', () => {
  const browser = useBrowser()
  let cluster: TestCluster
  let listed: { server: Server; url: string }
  let unlisted: { server: Server; url: string }
  let course: { id: string }

  beforeAll(async () => {
    cluster = await startTestCluster({ CELLGATE_ANONYMOUS: 'off' })
    const page = { html: '' }
    const serve: Parameters<typeof createServer>[1] = (_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(page.html)
    }
    listed = await listen(serve)
    unlisted = await listen(serve)

    const post = async (path: string, key: string, body: unknown) => {
      const res = await fetch(`${cluster.url}${path}`, { method: 'POST', headers: withKey(key, { 'content-type': 'application/json' }), body: JSON.stringify(body) })
      expect(res.status, await res.clone().text()).toBe(201)
      return res.json() as Promise<{ secret: string; account?: { id: string } }>
    }
    const made = await post('/api/v1/accounts', ADMIN_KEY, { name: 'course' })
    course = made.account!
    const publishable = (origin: string) =>
      post('/api/v1/keys', made.secret, { name: `page ${origin}`, kind: 'publishable', origins: [origin], scopes: ['cells:run', 'sessions:use'] })
    const pageKey = (await publishable(listed.url)).secret
    const cellKey = (await publishable(unlisted.url)).secret
    expect(pageKey).toMatch(/^cg_pk_/)
    page.html = hostPage(cluster.url, pageKey, cellKey)
  })
  afterAll(async () => {
    await cluster?.close()
    for (const host of [listed, unlisted]) {
      host?.server.closeAllConnections()
      await new Promise((resolve) => host?.server.close(resolve))
    }
  })

  const cells = (page: Page) => page.locator('form.embed-cell')
  const cell = (page: Page, n: number) => cells(page).nth(n)
  const run = (page: Page, n: number) => cell(page, n).getByRole('button', { name: 'Run' }).click()
  const done = (page: Page, n: number) => cell(page, n).locator('[role=status] [data-status=done]').waitFor()
  const resultOf = (page: Page, n: number) => cell(page, n).locator('.result-view__text').textContent()
  const refusalOf = async (page: Page, n: number) => {
    await cell(page, n).getByRole('alert').waitFor()
    return cell(page, n).getByRole('alert').textContent()
  }

  it("runs cells and a session with the page's key from an origin on its list, as the key's account", async () => {
    const page = browser.page
    await page.goto(`${listed.url}/`)
    await expect.poll(() => cells(page).count()).toBe(4)

    await run(page, 0)
    await done(page, 0)
    expect(await resultOf(page, 0)).toBe('42')
    await run(page, 1)
    await done(page, 1)
    await run(page, 2)
    await done(page, 2)
    expect(await resultOf(page, 2)).toBe('42')

    // The cell was run as the course account (the key's), not as anonymous.
    const link = await cell(page, 0).getByRole('link', { name: 'Open on cellgate' }).getAttribute('href')
    const job = (await (await fetch(`${cluster.url}/api/v1${new URL(link!).pathname}`)).json()) as { owner: string }
    expect(job.owner).toBe(course.id)
  })

  it('refuses a cell whose own key does not list this origin, saying which origin', async () => {
    const page = browser.page
    await page.goto(`${listed.url}/`)
    await run(page, 3)
    expect(await refusalOf(page, 3)).toContain(`403`)
    expect(await refusalOf(page, 3)).toContain(`may not be used from ${listed.url}`)
  })

  it('shows the refusal when the same page is served from an origin not on the list', async () => {
    const page = browser.page
    await page.goto(`${unlisted.url}/`)
    await expect.poll(() => cells(page).count()).toBe(4)
    await run(page, 0)
    const refusal = await refusalOf(page, 0)
    expect(refusal).toContain('403 forbidden')
    expect(refusal).toContain(`the key may not be used from ${unlisted.url}`)
    expect(await cell(page, 0).locator('[role=status] [data-status]').count()).toBe(0)

    // Its session cells are refused too: a session is made with the key as well.
    await run(page, 1)
    expect(await refusalOf(page, 1)).toContain(`may not be used from ${unlisted.url}`)

    // The cell with a key of its own listing this origin runs here.
    await run(page, 3)
    await done(page, 3)
    expect(await resultOf(page, 3)).toBe("'its own key'")
  })
})
