/**
 * Cells embedded in a page of another origin by /embed.js: two cells linked
 * to one session share their variables, errors are shown, a runaway cell
 * stops, and the page keeps
 * its globals and styles (the script adds `cellgate` and nothing else; page
 * CSS does not reach into the cells, theirs does not reach out).
 *
 *   host page (127.0.0.1:A) --<script src>--> cellgate (127.0.0.1:B)/embed.js
 *   embedded cells --CORS fetch, EventSource--> cellgate /api/v1/{sessions,cells}
 */
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { chromiumMissing, useBrowser } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { freePort, startTestCluster, type TestCluster } from '../support/test-cluster.ts'

/** The host page; `withEmbed` false gives the same page without the script, to compare against. */
function hostPage(cellgate: string, withEmbed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>host page</title>
<style>
  /* The host's own look, which must not reach into the cells. */
  body, div, pre, textarea, button { color: rgb(255, 0, 0) !important; font-family: serif !important; }
  /* Inherited properties the cells' own styles do not set: only the reset at their edge stops these. */
  div { letter-spacing: 5px !important; text-transform: uppercase !important; font-style: italic !important; }
</style>
</head><body>
<p class="embed-cell output status-badge cellgate-embed" id="host-probe">host text with the cells' class names</p>
<div data-cellgate data-cellgate-session="demo">
  x = 41
</div>
<div data-cellgate data-cellgate-session="demo">
  x + 1
</div>
<div data-cellgate>
  notDefinedAnywhere + 1
</div>
<div data-cellgate>
  console.log('looping')
  while (true) {}
</div>
${withEmbed ? `<script src="${cellgate}/embed.js"></script>` : ''}
</body></html>`
}

describeWith(chromiumMissing(), 'embedded cells on another origin', () => {
  const browser = useBrowser()
  let cluster: TestCluster
  let host: Server
  let hostUrl: string

  beforeAll(async () => {
    cluster = await startTestCluster()
    const port = await freePort()
    host = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(hostPage(cluster.url, req.url !== '/plain.html'))
    })
    await new Promise<void>((resolve) => host.listen(port, '127.0.0.1', resolve))
    hostUrl = `http://127.0.0.1:${port}`
  })
  afterAll(async () => {
    await cluster?.close()
    // The browser, still open, may hold keep-alive connections.
    host?.closeAllConnections()
    await new Promise((resolve) => host?.close(resolve))
  })

  const cells = (page: Page) => page.locator('form.embed-cell')
  const statusOf = (page: Page, n: number, status: string) => cells(page).nth(n).locator(`[role=status] [data-status=${status}]`)

  it('runs two cells linked to one session: x = 41, then x + 1 shows 42', async () => {
    const page = browser.page
    await page.goto(`${hostUrl}/`)
    await expect.poll(() => cells(page).count()).toBe(4)
    expect(await cells(page).nth(0).getByRole('textbox', { name: 'Cell code' }).inputValue()).toBe('x = 41')

    await cells(page).nth(0).getByRole('button', { name: 'Run' }).click()
    await statusOf(page, 0, 'done').waitFor()
    await cells(page).nth(1).getByRole('button', { name: 'Run' }).click()
    await statusOf(page, 1, 'done').waitFor()
    expect(await cells(page).nth(1).locator('.result-view__text').textContent()).toBe('42')
  })

  it("shows a cell's error", async () => {
    const page = browser.page
    await page.goto(`${hostUrl}/`)
    await cells(page).nth(2).getByRole('button', { name: 'Run' }).click()
    await statusOf(page, 2, 'error').waitFor()
    expect(await cells(page).nth(2).locator('.error-view__title').textContent()).toContain('ReferenceError')
  })

  it('stops a runaway cell', async () => {
    const page = browser.page
    await page.goto(`${hostUrl}/`)
    const cell = cells(page).nth(3)
    await cell.getByRole('button', { name: 'Run' }).click()
    await expect.poll(() => cell.getByRole('log', { name: 'Output' }).textContent()).toContain('looping')
    await cell.getByRole('button', { name: 'Stop' }).click()
    await statusOf(page, 3, 'cancelled').waitFor()
  })

  it('adds only the `cellgate` global, and styles neither leak in nor out', async () => {
    const page = browser.page
    const globals = () => page.evaluate(() => Object.getOwnPropertyNames(window))
    const probeStyle = () =>
      page.locator('#host-probe').evaluate((el) => {
        const s = getComputedStyle(el)
        return { color: s.color, background: s.backgroundColor, border: s.borderStyle, padding: s.padding, display: s.display, font: s.fontFamily }
      })

    await page.goto(`${hostUrl}/plain.html`)
    const plainGlobals = await globals()
    const plainProbe = await probeStyle()

    await page.goto(`${hostUrl}/`)
    await expect.poll(() => cells(page).count()).toBe(4)
    await cells(page).nth(0).getByRole('button', { name: 'Run' }).click()
    await statusOf(page, 0, 'done').waitFor()

    const added = (await globals()).filter((name) => !plainGlobals.includes(name))
    expect(added).toEqual(['cellgate'])
    expect(await page.evaluate(() => Object.keys((window as unknown as { cellgate: object }).cellgate).sort())).toEqual(['origin', 'scan'])
    expect(await probeStyle()).toEqual(plainProbe)

    // Inside the cell: nothing of the host's look reaches the code, the output or the buttons.
    for (const selector of ['textarea', '.result-view__text', 'button', '[role=status]']) {
      const style = await cells(page).nth(0).locator(selector).first().evaluate((el) => {
        const s = getComputedStyle(el)
        return { color: s.color, font: s.fontFamily, letterSpacing: s.letterSpacing, textTransform: s.textTransform, fontStyle: s.fontStyle }
      })
      expect(style.color, selector).not.toBe('rgb(255, 0, 0)')
      expect(style.font, selector).not.toMatch(/^serif$/)
      expect(style, selector).toMatchObject({ letterSpacing: 'normal', textTransform: 'none', fontStyle: 'normal' })
    }
  })
})
