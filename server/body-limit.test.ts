/**
 * The body limit over real HTTP (@hono/node-server), where a declared
 * Content-Length is checked from the headers and a chunked body is counted
 * as it arrives; both answer 413 as JSON, and a body within the limit is read.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { startServer, type RunningServer } from './main.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { testConfig } from '../test/support/config.ts'
import { RecordingLink } from '../test/support/server.ts'

interface Answer {
  status: number
  body: { error?: { code: string }; id?: string }
}

/** POSTs `chunks` to the server, chunked unless `length` is given. */
function post(url: string, chunks: string[], length?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' }
    if (length !== undefined) headers['content-length'] = length
    // A connection of its own: a refused body may be left unread on it.
    const req = request(`${url}/api/v1/cells`, { method: 'POST', headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }))
    })
    // The server may answer and close before the whole body is sent.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)))
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe('body limit over HTTP', () => {
  const tmp = tempDir()
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer(testConfig({ server: { dataDir: tmp.dir } }), { link: new RecordingLink(), logger: silentLogger() })
  })
  afterAll(async () => {
    await server?.close()
    tmp.remove()
  })

  it('reads a body within the limit, declared or chunked', async () => {
    const body = JSON.stringify({ code: '1+1' })
    expect((await post(server.url, [body], Buffer.byteLength(body))).status).toBe(202)
    const chunked = await post(server.url, [body.slice(0, 5), body.slice(5)])
    expect(chunked.status).toBe(202)
    expect(chunked.body.id).toMatch(/^[\w-]{16}$/)
  })

  it('refuses a declared Content-Length over the limit before reading the body', async () => {
    const answer = await post(server.url, ['{"code": "'], MAX_BODY_BYTES + 1)
    expect(answer).toEqual({ status: 413, body: { error: { code: 'payload_too_large', message: expect.any(String) } } })
  })

  it('refuses a chunked body once it grows over the limit', async () => {
    const chunk = 'x'.repeat(64 * 1024)
    const answer = await post(server.url, ['{"code": "', ...Array.from({ length: 20 }, () => chunk), '"}'])
    expect(answer).toEqual({ status: 413, body: { error: { code: 'payload_too_large', message: expect.any(String) } } })
  })
})
