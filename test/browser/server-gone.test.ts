/**
 * A server that goes away while a cell runs, in a real browser: the test
 * stops the cluster's server process mid-run. The page must say that it has
 * lost the server (not just go on showing "running"), keep trying, and drop
 * the notice once the server is started again and answers, then show how
 * the cell ended. A Stop pressed while the server is gone fails, saying so,
 * and that too clears once the server is back. On the cell page and in a
 * notebook.
 *
 *   chromium --SSE--> server (stopped, then started again) --ZeroMQ--> dispatcher --> sandbox (runs on)
 */
import { afterEach, expect, it } from 'vitest'
import type { Locator, Page } from 'playwright-core'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'

/** Long enough to outlive a server restart, well inside the default wall limit of 10 s. */
const CODE = "console.log('started')\nawait new Promise((r) => setTimeout(r, 5000))\nconsole.log('finished')\n'the end'"

describeWith(chromiumMissing(), 'a server that goes away mid-run', () => {
  const browser = useBrowser()
  const cluster = useCluster()
  // A test that failed with the server stopped must not leave it stopped for the next.
  afterEach(async () => {
    if (cluster.server.pid === undefined) await restartServer()
  })

  const lostNotice = (page: Page) => page.getByRole('alert').filter({ hasText: 'Lost the connection to the server' })
  const unreachable = (page: Page) => page.getByRole('alert').filter({ hasText: 'Cannot reach the server' })

  /** Stops the server once `output` shows the cell started, and waits for the page to say it lost it. */
  async function loseServer(page: Page, output: Locator): Promise<void> {
    await expect.poll(() => output.textContent()).toContain('started')
    await cluster.server.stop()
    await lostNotice(page).waitFor({ timeout: 15_000 })
  }

  async function restartServer(): Promise<void> {
    cluster.server.start()
    await cluster.healthy()
  }

  it('says on the cell page that the server is lost, and clears that when it is back', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    await page.getByRole('textbox', { name: 'Cell code' }).click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText(CODE)
    await page.keyboard.press('Control+Enter')
    const output = page.getByRole('log', { name: 'Output' })
    await loseServer(page, output)
    expect(await page.locator('[role=status] [data-status=running]').count()).toBe(1)

    await page.getByRole('button', { name: 'Stop' }).click()
    await unreachable(page).waitFor()

    await restartServer()
    await expect.poll(() => lostNotice(page).count()).toBe(0)
    await expect.poll(() => unreachable(page).count()).toBe(0)
    await page.locator('[role=status] [data-status=done]').waitFor()
    expect(await output.textContent()).toContain('finished')
    expect(await page.locator('.result-view__text').textContent()).toBe("'the end'")
  })

  it('says in a notebook that the server is lost, and clears that when it is back', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/notebooks/new`)
    await page.getByRole('textbox', { name: 'Cell 1 code' }).click()
    await page.keyboard.insertText(CODE)
    await page.keyboard.press('Control+Enter')
    const cell = page.getByRole('listitem', { name: 'Cell 1', exact: true })
    await loseServer(page, cell.getByRole('log', { name: 'Output' }))

    await restartServer()
    await expect.poll(() => lostNotice(page).count()).toBe(0)
    await cell.locator('[data-status=done]').waitFor()
    expect(await cell.locator('.result-view__text').textContent()).toBe("'the end'")
  })
})
