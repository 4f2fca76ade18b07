/**
 * Cross-origin use of the API, as embedded cells on other sites make it:
 * preflights answered, the allowed origin echoed, others refused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { inProcessServer, type InProcessServer } from '../test/support/server.ts'

let s: InProcessServer | undefined
afterEach(async () => {
  await s?.close()
})

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
})

describe('CORS on /api/v1', () => {
  it('lets any origin call the API by default, preflight included', async () => {
    s = await inProcessServer()
    const pre = await s.app.request('/api/v1/cells', preflight('https://course.example.org'))
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
    const res = await s.app.request('/api/v1/cells', {
      method: 'POST',
      headers: { origin: 'https://course.example.org', 'content-type': 'application/json' },
      body: JSON.stringify({ code: '1' }),
    })
    expect(res.status).toBe(202)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toContain('Location')
  })

  it('with a list of origins, allows those and no others', async () => {
    s = await inProcessServer({ server: { corsOrigins: 'https://a.example, https://b.example' } })
    const allowed = await s.app.request('/api/v1/health', { headers: { origin: 'https://b.example' } })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://b.example')
    const other = await s.app.request('/api/v1/cells', preflight('https://evil.example'))
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})
