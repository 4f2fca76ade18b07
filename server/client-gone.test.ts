/**
 * A client that sends part of a JSON body and closes its connection, over a
 * raw socket to the real server (issue 11, item 9): logged at info as the
 * client going away, with status 499, never an error or a 500; the server
 * answers the next request as ever.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { capturingLogger, type LogRecord } from '../test/support/logs.ts'
import { testConfig } from '../test/support/config.ts'
import { RecordingLink } from '../test/support/server.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { startServer, type RunningServer } from './main.ts'

const HEAD = 'POST /api/v1/cells HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'

describe('a request body cut off by its client', () => {
  const tmp = tempDir()
  const { logger, records } = capturingLogger()
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer(testConfig({ server: { dataDir: tmp.dir } }), { link: new RecordingLink(), logger })
  })
  beforeEach(() => {
    records.length = 0
  })
  afterAll(async () => {
    await server?.close()
    tmp.remove()
  })

  /** Sends `text` on a socket of its own, then closes it. */
  function sendAndClose(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        // Whether the server has begun to read the body or not, what it has is less than the request said.
        socket.write(text, () => socket.destroy())
      })
      socket.on('close', () => resolve())
      socket.on('error', reject)
    })
  }

  const requestLog = () => records.find((r) => r.component === 'http' && r.msg === 'request')

  it.each([
    ['a declared length', `${HEAD}Content-Length: 100000\r\n\r\n{"code":"1`],
    ['a chunked body', `${HEAD}Transfer-Encoding: chunked\r\n\r\na\r\n{"code":"1\r\n`],
  ])('%s: logged at info as the client going away, status 499, no error', async (_, text) => {
    await sendAndClose(text)
    await expect.poll(requestLog).toBeDefined()
    expect(requestLog()).toMatchObject({ level: 30, method: 'POST', path: '/api/v1/cells', status: 499 })
    expect(records).toContainEqual(expect.objectContaining({ level: 30, msg: 'the client went away before its request was read' }))
    expect(records.filter((r: LogRecord) => r.level >= 40)).toEqual([])
    const next = await fetch(`${server.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"1"}' })
    expect(next.status).toBe(202)
  })

  it('still answers a whole body that is not JSON with 400 invalid_json', async () => {
    const res = await fetch(`${server.url}/api/v1/cells`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_json' } })
  })
})
