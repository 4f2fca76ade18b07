/**
 * The code editor under fast input, in a real browser: keys sent with no
 * delay between them land less than a frame apart (as a fast key repeat or
 * a text expander does), so the page's state lags the editor by an edit.
 * The text must come out as typed and the page must keep answering, on the
 * cell page and in a notebook.
 *
 *   playwright --CDP keys, no delay--> chromium: CodeMirror -> onChange -> page state -> value prop
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import type { Locator, Page } from 'playwright-core'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'

/** A page stuck in a render loop never runs the evaluation; a bound so the test fails rather than hangs. */
const ANSWER_MS = 5_000

describeWith(chromiumMissing(), 'the editor under fast input', () => {
  const browser = useBrowser()
  const cluster = useCluster()

  /** True once `work` is done and the page answers an evaluation; false when it is stuck. */
  async function answersAfter(page: Page, work: Promise<void>): Promise<boolean> {
    const done = work.then(() => page.evaluate(() => true))
    return Promise.race([done, sleep(ANSWER_MS, false)])
  }

  /** Ctrl+End, then Backspace three times and a word typed, every key sent right after the one before. */
  async function editFast(page: Page, editor: Locator): Promise<void> {
    await editor.click()
    await page.keyboard.press('Control+A')
    await page.keyboard.insertText('x = 1234')
    await page.keyboard.press('Control+End')
    for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace')
    await page.keyboard.type('0 * 7', { delay: 0 })
  }

  it('keeps every edit on the cell page and the page keeps answering', async () => {
    const page = browser.page
    await page.goto(cluster.url)
    const editor = page.getByRole('textbox', { name: 'Cell code' })
    expect(await answersAfter(page, editFast(page, editor))).toBe(true)
    await expect.poll(() => editor.textContent()).toBe('x = 10 * 7')

    // What was typed is what runs.
    await page.keyboard.press('Control+End')
    await page.keyboard.type('\nx', { delay: 0 })
    await page.keyboard.press('Control+Enter')
    await expect.poll(() => page.locator('.result-view__text').textContent()).toBe('70')
  })

  it('keeps every edit in a notebook cell and the page keeps answering', async () => {
    const page = browser.page
    await page.goto(`${cluster.url}/notebooks/new`)
    const editor = page.getByRole('textbox', { name: 'Cell 1 code' })
    expect(await answersAfter(page, editFast(page, editor))).toBe(true)
    await expect.poll(() => editor.textContent()).toBe('x = 10 * 7')
  })
})
