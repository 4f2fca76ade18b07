/**
 * The app's addresses in a real browser: an unknown path says so, links
 * between pages are followed inside the app (no page load: a mark left on
 * `window` survives), Back and Forward show the page of each address, and a
 * run's `/cells/:id` shows that cell when it is opened again from history.
 *
 *   chromium --GET any client path--> server: index.html; the app routes (preact-iso)
 */
import { expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'

describeWith(chromiumMissing(), 'the app routes in a browser', () => {
  const browser = useBrowser()
  const cluster = useCluster()

  const path = (page: Page) => new URL(page.url()).pathname
  const mark = (page: Page) => page.evaluate(() => ((window as unknown as { mark: number }).mark = 1))
  const marked = (page: Page) => page.evaluate(() => (window as unknown as { mark?: number }).mark === 1)

  it('says an unknown path is not found and links inside the app from there', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/nowhere/at/all`)
    expect(await page.getByRole('heading', { name: 'Page not found' }).count()).toBe(1)
    expect(await page.locator('.not-found code').textContent()).toBe('/nowhere/at/all')
    await mark(page)

    await page.getByRole('link', { name: 'Start a new cell' }).click()
    await page.getByRole('textbox', { name: 'Cell code' }).waitFor()
    expect(path(page)).toBe('/')
    expect(await marked(page)).toBe(true)
  })

  it('goes Back and Forward between a run cell, the new cell page and a notebook', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    await mark(page)
    await page.getByRole('textbox', { name: 'Cell code' }).click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText("'routed'")
    await page.keyboard.press('Control+Enter')
    await expect.poll(() => path(page)).toMatch(/^\/cells\/[\w-]+$/)
    const cellAddress = path(page)
    await expect.poll(() => page.locator('.result-view__text').textContent()).toBe("'routed'")

    await page.getByRole('link', { name: 'New notebook' }).click()
    await page.getByRole('textbox', { name: 'Cell 1 code' }).waitFor()
    expect(path(page)).toBe('/notebooks/new')

    await page.goBack()
    await expect.poll(() => page.locator('.result-view__text').textContent()).toBe("'routed'")
    expect(path(page)).toBe(cellAddress)
    await page.goBack()
    expect(path(page)).toBe('/')
    await expect.poll(() => page.locator('.result-view').count()).toBe(0)
    await page.goForward()
    await expect.poll(() => page.locator('.result-view__text').textContent()).toBe("'routed'")
    expect(await marked(page)).toBe(true)
  })
})
