/**
 * The cell page in a real browser against a real cellgate: type and run a
 * cell and watch its output stream in, stop a runaway cell, open a cell's
 * permalink and run it again.
 *
 *   chromium --page, HTTP/SSE--> server --ZeroMQ--> dispatcher --> sandbox
 */
import { expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'

describeWith(chromiumMissing(), 'the cell page in a browser', () => {
  const browser = useBrowser()
  const cluster = useCluster()

  /** Replaces the editor's text, as a person would: select all, type. */
  async function typeCode(page: Page, code: string): Promise<void> {
    const editor = page.getByRole('textbox', { name: 'Cell code' })
    await editor.click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText(code)
  }

  const status = (page: Page) => page.locator('[role=status] [data-status]')
  const output = (page: Page) => page.getByRole('log', { name: 'Output' })

  it('runs typed code and shows output while the cell is still running', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    await typeCode(page, "console.log('first line')\nawait new Promise((r) => setTimeout(r, 3000))\nconsole.log('second line')\n6 * 7")
    await page.keyboard.press('Control+Enter')

    await expect.poll(() => output(page).textContent()).toContain('first line')
    // The first line came in by the stream, before the cell ended.
    expect(await status(page).getAttribute('data-status')).toBe('running')
    expect(await output(page).textContent()).not.toContain('second line')

    await status(page).and(page.locator('[data-status=done]')).waitFor()
    expect(await output(page).textContent()).toContain('second line')
    await expect.poll(() => page.locator('.result-view__text').textContent()).toBe('42')
    // The address now names the cell, so it can be shared.
    expect(new URL(page.url()).pathname).toMatch(/^\/cells\/[\w-]+$/)
  })

  it('renders a table, a JSON tree and an image natively', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20"/></svg>'
    await typeCode(page, `display.table([{ city: 'Oslo', n: 3 }, { city: 'Lima', n: 12 }])\ndisplay.json({ a: [1, 2] })\ndisplay.svg('${svg}')`)
    await page.keyboard.press('Control+Enter')
    await page.locator('[role=status] [data-status=done]').waitFor()

    const table = page.getByRole('region', { name: 'Table output 1' })
    expect(await table.locator('th').allTextContents()).toEqual(['city', 'n'])
    expect(await table.locator('tbody tr').allTextContents()).toEqual(['Oslo3', 'Lima12'])
    expect(await page.locator('[data-mime="application/json"]').textContent()).toContain('a')
    expect(await page.getByRole('img', { name: 'SVG image output 3' }).count()).toBe(1)
  })

  it('stops a runaway cell with the Stop button', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    await typeCode(page, "console.log('spinning')\nwhile (true) {}")
    await page.getByRole('button', { name: 'Run' }).click()
    await expect.poll(() => output(page).textContent()).toContain('spinning')

    await page.getByRole('button', { name: 'Stop' }).click()
    await page.locator('[role=status] [data-status=cancelled]').waitFor()
    await expect.poll(() => page.getByRole('button', { name: 'Stop' }).count()).toBe(0)
  })

  it('opens a finished cell from its permalink and runs it again', async () => {
    const code = "console.log('from the permalink')\n'answer: ' + (40 + 2)"
    const res = await fetch(`${cluster.url}/api/v1/cells?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    })
    const job = (await res.json()) as { id: string; status: string }
    expect(job.status).toBe('done')

    const page = browser.page
    await page.goto(`${cluster.url}/cells/${job.id}`)
    await page.locator('[role=status] [data-status=done]').waitFor()
    await expect.poll(() => page.getByRole('textbox', { name: 'Cell code' }).textContent()).toContain('from the permalink')
    expect(await output(page).textContent()).toContain('from the permalink')
    expect(await page.locator('.result-view__text').textContent()).toContain('answer: 42')

    await page.getByRole('button', { name: 'Run' }).click()
    await expect.poll(() => new URL(page.url()).pathname).not.toBe(`/cells/${job.id}`)
    await page.locator('[role=status] [data-status=done]').waitFor()
    expect(await output(page).textContent()).toContain('from the permalink')
    expect(await page.locator('.result-view__text').textContent()).toContain('answer: 42')
  })
})
