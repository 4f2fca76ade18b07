/**
 * HTTP as another client: requests sent from a chosen loopback source
 * address (any of 127.0.0.0/8 on Linux), so the server, which tells callers
 * apart by their address, sees a second caller on the same machine.
 */
import { request } from 'node:http'

export interface JsonReply {
  status: number
  body: unknown
}

/**
 * @example
 *   const { status, body } = await requestFrom('127.0.0.2', 'POST', `${url}/api/v1/cells?wait=true`, { code: '1+1' })
 */
export function requestFrom(localAddress: string, method: string, url: string, body?: unknown): Promise<JsonReply> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request(url, { method, localAddress, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
        } catch (err) {
          reject(err as Error)
        }
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}
