/**
 * The dispatcher's Prometheus endpoint: GET /metrics on its own address
 * (config.dispatcher.metricsHost:metricsPort, loopback by default), served
 * with node:http because the dispatcher has no web framework and needs
 * nothing else. Every other path is 404. It is started and closed with the
 * dispatcher.
 *
 *   Prometheus ──GET /metrics──> node:http ──registry.metrics()──> text format 0.0.4
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface MetricsServer {
  /** Where it serves, the port resolved (port 0 takes any free one), e.g. http://127.0.0.1:9464/metrics. */
  readonly url: string
  close(): Promise<void>
}

/**
 * @example
 *   const metrics = await serveMetrics(registry, '127.0.0.1', 0)
 *   await fetch(metrics.url) // 200, the registry in Prometheus text format
 *   await metrics.close()
 */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        // A scraper's kept-alive connection would hold close() open until it times out.
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
