/**
 * Interacts in a real browser against a real cellgate: a notebook cell
 * declares a slider, the page shows it with the function's first value, and
 * moving the slider from the keyboard runs the function again in the
 * notebook's session and replaces what it showed; the same in an embedded
 * cell of another page that names no session (it gets one of its own).
 *
 *   chromium --page--> server  POST /sessions, POST /cells {interact(…), session}
 *            slider moves -->  POST /cells {__cellgate_interact(id, {n: 11}), session} (SSE)
 */
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Locator } from 'playwright-core'
import { chromiumMissing, useBrowser } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { freePort, startTestCluster, type TestCluster } from '../support/test-cluster.ts'

const CODE = 'interact({n: slider(1, 100, 1, 10)}, ({n}) => n * 2)'

describeWith(chromiumMissing(), 'interacts in a browser', () => {
  const browser = useBrowser()
  let cluster: TestCluster
  let host: Server | undefined

  beforeAll(async () => {
    cluster = await startTestCluster()
  })
  afterAll(async () => {
    host?.closeAllConnections()
    await new Promise((resolve) => (host ? host.close(resolve) : resolve(undefined)))
    await cluster?.close()
  })

  /** Moves the slider from the keyboard and sees the function's new value replace the old one. */
  async function slide(scope: Locator): Promise<void> {
    const output = scope.getByLabel('Interact output')
    await expect.poll(() => output.textContent()).toBe('20')
    const slider = scope.getByRole('slider', { name: 'n' })
    expect(await slider.inputValue()).toBe('10')
    await slider.focus()
    await slider.press('ArrowRight')
    await slider.press('ArrowRight')
    await expect.poll(() => output.textContent()).toBe('24')
    expect(await scope.locator('.interact-control__value').textContent()).toBe('12')
  }

  it('re-runs a notebook cell\'s function in its session when the slider moves', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/notebooks/new`)
    await page.getByRole('textbox', { name: 'Cell 1 code' }).click()
    await page.keyboard.insertText(CODE)
    await page.getByRole('button', { name: 'Run cell 1' }).click()
    const cell = page.getByRole('listitem', { name: 'Cell 1', exact: true })
    await slide(cell)
    // The re-runs are the interact's, not the cell's: its count and result stay as they were.
    expect(await cell.locator('.notebook-cell__prompt').textContent()).toBe('[1]')
    expect(await cell.locator('.result-view').count()).toBe(0)
  })

  it('gives an unlinked embedded cell a session of its own for its interact', async () => {
    const port = await freePort()
    host = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title></head><body>
<div data-cellgate>${CODE}</div>
<script src="${cluster.url}/embed.js"></script></body></html>`)
    })
    await new Promise<void>((resolve) => host!.listen(port, '127.0.0.1', resolve))
    const page = browser.page
    await page.goto(`http://127.0.0.1:${port}/`)
    const cell = page.locator('form.embed-cell')
    await cell.getByRole('button', { name: 'Run' }).click()
    await slide(cell)
  })
})
