/**
 * The other ceiling's server, run as its own process by bare-hono.ts: a
 * Hono app on @hono/node-server with one route that reads a JSON body and
 * answers JSON, the least any cellgate request costs the web tier. Prints
 * its URL on stdout once listening (port 0: the system picks).
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()
app.post('/json', async (c) => {
  const body = await c.req.json<{ code?: string }>()
  return c.json({ status: 'done', result: { text: String(body.code?.length ?? 0) } })
})

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  console.log(`http://127.0.0.1:${info.port}`)
})
// Ends with its parent: the bench closes stdin (or dies).
process.stdin.resume()
process.stdin.on('end', () => server.close(() => process.exit(0)))
