/**
 * Request logging in-process: one record per request with method, path
 * (never the query), status and time; health checks at debug only.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { capturingLogger } from '../test/support/logs.ts'
import { type LogRecord } from '../test/support/logs.ts'
import { inProcessServer, type InProcessServer } from '../test/support/server.ts'

let s: InProcessServer
afterEach(async () => {
  await s.close()
})

const requests = (records: LogRecord[]) => records.filter((r) => r.msg === 'request')

describe('request log', () => {
  it('logs each request once with method, path without the query, status and duration', async () => {
    const { logger, records } = capturingLogger()
    s = await inProcessServer({}, { logger })
    await s.app.request('/api/v1/cells', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"1"}' })
    await s.app.request('/api/v1/cells/AAAAAAAAAAAAAAAA?token=secret-value')
    await s.app.request('/api/v1/cells', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
    expect(requests(records)).toEqual([
      expect.objectContaining({ level: 30, component: 'http', method: 'POST', path: '/api/v1/cells', status: 202, ms: expect.any(Number) }),
      expect.objectContaining({ level: 30, method: 'GET', path: '/api/v1/cells/AAAAAAAAAAAAAAAA', status: 404 }),
      expect.objectContaining({ level: 30, method: 'POST', path: '/api/v1/cells', status: 415 }),
    ])
    expect(JSON.stringify(records)).not.toContain('secret-value')
  })

  it('logs health checks at debug, so they stay out of the info log', async () => {
    const { logger, records } = capturingLogger()
    s = await inProcessServer({}, { logger })
    await s.app.request('/api/v1/health')
    expect(requests(records)).toEqual([expect.objectContaining({ level: 20, path: '/api/v1/health', status: 503 })])
  })
})
