/**
 * The notebook page in a real browser against a real cellgate: build a
 * notebook of two cells sharing one session, run all, save, reload the
 * saved URL (its permalink) and see the code and outputs, run it again;
 * stop a runaway cell with Escape, which ends the session: the page says why
 * and runs again only in a new session the user starts; add, move and
 * remove cells, move between them with Alt+Up/Down, export the notebook as
 * a file and import it again; run all stops at the first cell that fails.
 *
 *   chromium --page--> server  POST /sessions, POST /cells {code, session} (SSE)
 *                              POST /notebooks, GET /notebooks/:id
 */
import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'

describeWith(chromiumMissing(), 'the notebook page in a browser', () => {
  const browser = useBrowser()
  const cluster = useCluster()

  const cell = (page: Page, n: number) => page.getByRole('listitem', { name: `Cell ${n}`, exact: true })
  const editor = (page: Page, n: number) => page.getByRole('textbox', { name: `Cell ${n} code` })
  const result = (page: Page, n: number) => cell(page, n).locator('.result-view__text')
  const prompt = (page: Page, n: number) => cell(page, n).locator('.notebook-cell__prompt')

  /** Types into a cell's (empty) editor, as a person would. */
  async function typeInto(page: Page, n: number, code: string): Promise<void> {
    await editor(page, n).click()
    await page.keyboard.insertText(code)
  }

  it('builds, runs, saves, reloads and re-runs a notebook whose cells share a session', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    await page.getByRole('link', { name: 'New notebook' }).click()
    await expect.poll(() => new URL(page.url()).pathname).toBe('/notebooks/new')

    await page.getByRole('textbox', { name: 'Notebook title' }).fill('The answer')
    await typeInto(page, 1, 'x = 41')
    await page.getByRole('button', { name: 'Add a cell below cell 1' }).click()
    await typeInto(page, 2, "console.log('adding one')\nx + 1")

    await page.getByRole('button', { name: 'Run all' }).click()
    await expect.poll(() => result(page, 2).textContent()).toBe('42')
    expect(await result(page, 1).textContent()).toBe('41')
    expect(await cell(page, 2).getByRole('log', { name: 'Output' }).textContent()).toContain('adding one')
    expect(await prompt(page, 1).textContent()).toBe('[1]')
    expect(await prompt(page, 2).textContent()).toBe('[2]')

    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/notebooks\/[\w-]{12}$/)
    const saved = page.url()

    // The permalink, opened afresh, shows the code and the outputs as saved, without running anything.
    await page.goto(saved)
    await expect.poll(() => editor(page, 2).textContent()).toContain('x + 1')
    expect(await page.getByRole('textbox', { name: 'Notebook title' }).inputValue()).toBe('The answer')
    expect(await editor(page, 1).textContent()).toBe('x = 41')
    expect(await result(page, 2).textContent()).toBe('42')
    expect(await cell(page, 2).getByRole('log', { name: 'Output' }).textContent()).toContain('adding one')
    expect(await prompt(page, 2).textContent()).toBe('[ ]')

    // Run again, from the keyboard this time, in a new session: cell 1 then cell 2.
    await editor(page, 1).click()
    await page.keyboard.press('Shift+Enter')
    await cell(page, 1).locator('[data-status=done]').waitFor()
    expect(await prompt(page, 1).textContent()).toBe('[1]')
    // Shift+Enter moved the focus to the next cell's editor.
    expect(await editor(page, 2).evaluate((el) => el === document.activeElement)).toBe(true)
    await page.keyboard.press('Control+Enter')
    await expect.poll(() => prompt(page, 2).textContent()).toBe('[2]')
    await cell(page, 2).locator('[data-status=done]').waitFor()
    expect(await result(page, 2).textContent()).toBe('42')
  })

  it('stops a runaway cell with Escape, shows why the session ended, and offers a new one', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/notebooks/new`)
    await typeInto(page, 1, "console.log('spinning')\nwhile (true) {}")
    await page.keyboard.press('Control+Enter')
    await expect.poll(() => cell(page, 1).getByRole('log', { name: 'Output' }).textContent()).toContain('spinning')
    expect(await prompt(page, 1).textContent()).toBe('[*]')

    await page.keyboard.press('Escape')
    await cell(page, 1).locator('[data-status=cancelled]').waitFor()
    // Stopping running code discards the session's context: said plainly, never silently replaced.
    const ended = page.getByRole('alert').filter({ hasText: 'The session ended' })
    await ended.waitFor()
    expect(await ended.textContent()).toMatch(/cancel|stop/i)

    await page.getByRole('button', { name: 'Run cell 1' }).click()
    expect(await prompt(page, 1).textContent()).toBe('[1]')
    await page.getByRole('button', { name: 'Start a new session' }).click()
    expect(await ended.count()).toBe(0)
    await editor(page, 1).click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText('6 * 7')
    await page.getByRole('button', { name: 'Run cell 1' }).click()
    await expect.poll(() => result(page, 1).textContent()).toBe('42')
    expect(await prompt(page, 1).textContent()).toBe('[1]')
  })

  it('adds, moves and removes cells, moves focus with Alt+Up/Down, exports and imports the notebook', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/notebooks/new`)
    await typeInto(page, 1, "'a'")
    for (const [n, code] of [[1, "'b'"], [2, "'c'"]] as const) {
      await page.getByRole('button', { name: `Add a cell below cell ${n}` }).click()
      // The new cell's editor has the focus.
      await expect.poll(() => editor(page, n + 1).evaluate((el) => el === document.activeElement)).toBe(true)
      await page.keyboard.insertText(code)
    }
    const codes = () => page.locator('.notebook-cell .cm-content').allTextContents()
    expect(await codes()).toEqual(["'a'", "'b'", "'c'"])

    await page.getByRole('button', { name: 'Move cell 3 up' }).click()
    expect(await codes()).toEqual(["'a'", "'c'", "'b'"])
    await page.getByRole('button', { name: 'Move cell 1 down' }).click()
    expect(await codes()).toEqual(["'c'", "'a'", "'b'"])
    await page.getByRole('button', { name: 'Remove cell 2' }).click()
    expect(await codes()).toEqual(["'c'", "'b'"])

    await editor(page, 2).click()
    await page.keyboard.press('Alt+ArrowUp')
    expect(await editor(page, 1).evaluate((el) => el === document.activeElement)).toBe(true)
    await page.keyboard.press('Alt+ArrowDown')
    expect(await editor(page, 2).evaluate((el) => el === document.activeElement)).toBe(true)

    await page.getByRole('textbox', { name: 'Notebook title' }).fill('Letters')
    await page.getByRole('button', { name: 'Run all' }).click()
    await expect.poll(() => result(page, 2).textContent()).toBe("'b'")

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()])
    expect(download.suggestedFilename()).toBe('letters.json')
    const file = JSON.parse(await readFile((await download.path())!, 'utf8')) as { format: string; title: string; cells: { code: string; result?: { text: string } }[] }
    expect(file).toMatchObject({ format: 'cellgate-notebook', title: 'Letters', cells: [{ code: "'c'", result: { text: "'c'" } }, { code: "'b'", result: { text: "'b'" } }] })

    await page.getByRole('link', { name: 'New notebook' }).click()
    await page.getByRole('textbox', { name: 'Notebook title' }).fill('')
    await page.getByLabel('Import').setInputFiles({ name: 'letters.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) })
    await expect.poll(() => codes()).toEqual(["'c'", "'b'"])
    expect(await page.getByRole('textbox', { name: 'Notebook title' }).inputValue()).toBe('Letters')
    expect(await result(page, 2).textContent()).toBe("'b'")

    // A file that is not a notebook is refused, saying why; the notebook shown stays.
    await page.getByLabel('Import').setInputFiles({ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from('{"cells": 1}') })
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not a cellgate notebook')
    expect(await codes()).toEqual(["'c'", "'b'"])
  })

  it('runs all in order and stops at the first cell that fails', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/notebooks/new`)
    await typeInto(page, 1, "throw new Error('boom')")
    await page.getByRole('button', { name: 'Add a cell below cell 1' }).click()
    await typeInto(page, 2, "'never run'")
    await page.getByRole('button', { name: 'Run all' }).click()
    await cell(page, 1).locator('[data-status=error]').waitFor()
    expect(await cell(page, 1).locator('.error-view').textContent()).toContain('boom')
    // Run all has ended (its Stop button is gone) without running cell 2.
    await expect.poll(() => page.getByRole('button', { name: 'Stop' }).count()).toBe(0)
    expect(await prompt(page, 2).textContent()).toBe('[ ]')
    expect(await result(page, 2).count()).toBe(0)
  })
})
