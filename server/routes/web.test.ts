/**
 * The web client in-process: built files, index.html for client routes,
 * JSON 404 for the API, and the hint to build when there is no build.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/support/temp-dir.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer | undefined
const dirs: (() => void)[] = []

afterEach(async () => {
  await s?.close()
  for (const remove of dirs.splice(0)) remove()
})

describe('web client', () => {
  it('serves the build, and index.html for client routes', async () => {
    const web = tempDir('cellgate-web-')
    dirs.push(web.remove)
    mkdirSync(join(web.dir, 'assets'))
    writeFileSync(join(web.dir, 'index.html'), '<!doctype html><title>cellgate</title>')
    writeFileSync(join(web.dir, 'assets', 'app.js'), 'console.log("app")')
    s = await inProcessServer({}, { webRoot: web.dir })

    const root = await s.app.request('/')
    expect(root.status).toBe(200)
    expect(await root.text()).toContain('<title>cellgate</title>')
    const asset = await s.app.request('/assets/app.js')
    expect(asset.headers.get('content-type')).toMatch(/javascript/)
    expect(await asset.text()).toBe('console.log("app")')
    const page = await s.app.request('/cells/AAAAAAAAAAAAAAAA')
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toContain('<title>cellgate</title>')

    const traversal = await s.app.request('/assets/..%2f..%2fpackage.json')
    expect(await traversal.text()).not.toContain('"name"')
    const api = await s.app.request('/api/v1/nothing')
    expect(api.status).toBe(404)
    expect(await api.json()).toMatchObject({ error: { code: 'not_found' } })
    const post = await s.app.request('/cells/AAAAAAAAAAAAAAAA', { method: 'POST' })
    expect(post.status).toBe(404)
    expect(await post.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('tells to run the build when there is none', async () => {
    s = await inProcessServer()
    for (const path of ['/', '/cells/AAAAAAAAAAAAAAAA']) {
      const res = await s.app.request(path)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('npm run build')
    }
  })
})
