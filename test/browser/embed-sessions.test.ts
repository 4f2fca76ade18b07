/**
 * Sessions of embedded cells across page loads, in a real browser: a course
 * page with one linked group and one interact cell (two sessions a load)
 * is loaded and run ten times, and never meets the per-computer session
 * limit (5), because each load ends its sessions when it goes; then the
 * app's notebook still gets a session. A reader who does meet the limit
 * (other pages hold every session) is told in words for a reader what to
 * do, and Run works again once there is room.
 *
 *   host page --pagehide--> DELETE /api/v1/sessions/:id (keepalive, CORS)
 *   host page --Run-------> POST /api/v1/sessions, POST /api/v1/cells {session}
 */
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { chromiumMissing, useBrowser, useCluster } from '../support/browser.ts'
import { describeWith } from '../support/needs.ts'
import { freePort } from '../support/test-cluster.ts'

const LOADS = 10

describeWith(chromiumMissing(), 'sessions of embedded cells across page loads', () => {
  const browser = useBrowser()
  const cluster = useCluster()
  let host: Server
  let hostUrl: string

  beforeAll(async () => {
    const port = await freePort()
    host = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>course page</title></head><body>
<div data-cellgate data-cellgate-session="lesson">x = 41</div>
<div data-cellgate data-cellgate-session="lesson">x + 1</div>
<div data-cellgate>interact({n: slider(1, 10, 1, 2)}, ({n}) => n * 2)</div>
<script src="${cluster.url}/embed.js"></script></body></html>`)
    })
    await new Promise<void>((resolve) => host.listen(port, '127.0.0.1', resolve))
    hostUrl = `http://127.0.0.1:${port}/`
  })
  afterAll(async () => {
    host?.closeAllConnections()
    await new Promise((resolve) => host?.close(resolve))
  })

  const cells = (page: Page) => page.locator('form.embed-cell')

  /** Runs cell `n` and waits for it to end (any way: a test then says how it should have). */
  async function run(page: Page, n: number): Promise<void> {
    const cell = cells(page).nth(n)
    await cell.getByRole('button', { name: 'Run' }).click()
    await cell.locator('[role=status] [data-status]:not([data-status=queued]):not([data-status=running])').waitFor()
  }

  /**
   * The sessions the page's cells hold, as the embed keeps them in the tab (web/embed/sessions.ts). Not
   * from the cells' records: a cell's view shows its session only to its owner's keys, and these cells
   * are anonymous.
   */
  async function sessionsRun(page: Page): Promise<string[]> {
    const ids = await page.evaluate((prefix) => Object.keys(sessionStorage).filter((k) => k.startsWith(prefix)).map((k) => sessionStorage.getItem(k)!), `cellgate-session ${cluster.url} `)
    return ids.sort()
  }
  const sessionStatus = async (id: string) => ((await (await fetch(`${cluster.url}/api/v1/sessions/${id}`)).json()) as { status: string }).status

  it(`ends the page's sessions on each of ${LOADS} reloads, never reaching the limit, and the notebook still gets one`, async () => {
    const page = browser.page
    await page.goto(hostUrl)
    let before: string[] = []
    for (let load = 1; load <= LOADS; load++) {
      if (load > 1) await page.reload()
      await run(page, 0)
      await run(page, 1)
      expect(await cells(page).nth(1).locator('.result-view__text').textContent(), `load ${load}`).toBe('42')
      await run(page, 2)
      expect(await page.getByRole('alert').count(), `load ${load}`).toBe(0)
      // The last load's sessions were ended as it went, and none of them was picked up again.
      for (const id of before) await expect.poll(() => sessionStatus(id), { message: `load ${load}` }).toBe('ended')
      const now = await sessionsRun(page)
      expect(now, `load ${load}`).toHaveLength(2)
      expect(now.filter((id) => before.includes(id)), `load ${load}`).toEqual([])
      before = now
    }

    await page.goto(`${cluster.url}/notebooks/new`)
    await page.getByRole('textbox', { name: 'Cell 1 code' }).click()
    await page.keyboard.insertText('6 * 7')
    await page.getByRole('button', { name: 'Run cell 1' }).click()
    await expect.poll(() => page.locator('.result-view__text').textContent()).toBe('42')
  })

  it('reuses the sessions of a load that could not end them (no pagehide, as when a tab crashes)', async () => {
    const page = browser.page
    // The embed's pagehide listener is never added, so a load leaves its sessions as a crashed one does.
    await page.addInitScript(() => {
      const add = EventTarget.prototype.addEventListener
      EventTarget.prototype.addEventListener = function (this: EventTarget, ...args: Parameters<typeof add>) {
        if (args[0] !== 'pagehide') add.apply(this, args)
      }
    })
    await page.goto(hostUrl)
    await run(page, 0)
    const held = await sessionsRun(page)
    await page.reload()

    // x = 41 ran in the last load only: x + 1 gives 42 only in the same session.
    await run(page, 1)
    expect(await cells(page).nth(1).locator('.result-view__text').textContent()).toBe('42')
    expect(await sessionsRun(page)).toEqual(held)
  })

  it('tells a reader who meets the session limit what to do, and runs once there is room', async () => {
    // Other pages of this computer (same address) hold every session it may have.
    const taken: string[] = []
    for (;;) {
      const res = await fetch(`${cluster.url}/api/v1/sessions`, { method: 'POST' })
      if (res.status === 429) break
      expect(res.status).toBe(201)
      taken.push(((await res.json()) as { id: string }).id)
    }

    const page = browser.page
    await page.goto(hostUrl)
    await cells(page).nth(0).getByRole('button', { name: 'Run' }).click()
    const alert = cells(page).nth(0).getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toContain('Too many live cells are open from this computer')
    expect(await alert.textContent()).not.toMatch(/DELETE|\/api\//)

    for (const id of taken) await fetch(`${cluster.url}/api/v1/sessions/${id}`, { method: 'DELETE' })
    await run(page, 0)
    expect(await alert.count()).toBe(0)
  })
})
