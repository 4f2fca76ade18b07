/**
 * The single-page web client, built by Vite into dist/web: its files as they
 * are, and index.html for every other GET outside /api (the client routes
 * `/cells/:id` itself). Without a build, pages answer a line saying how to
 * make one.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Context, MiddlewareHandler } from 'hono'

/** Where `npm run build` puts the client (vite.config.ts). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url))

export interface WebClient {
  /** Serves files under the root; passes on what it does not have. Null without a build. */
  assets: MiddlewareHandler | null
  /** The page for a client-side route: index.html, or the hint to build. */
  page(c: Context): Promise<Response>
}

/**
 * @example
 *   const web = webClient(DEFAULT_WEB_ROOT)
 *   if (web.assets) app.use('*', web.assets)
 *   app.notFound((c) => isPage(c) ? web.page(c) : notFoundJson(c))
 */
export function webClient(root: string): WebClient {
  const index = join(root, 'index.html')
  if (!existsSync(index)) {
    return {
      assets: null,
      page: async (c) => c.text('cellgate: the web client is not built yet; run `npm run build`, then reload.\n'),
    }
  }
  return {
    assets: serveStatic({ root }),
    page: async (c) => c.html(await readFile(index, 'utf8')),
  }
}

/** Whether a request that matched no route is a page of the client, rather than an API call. */
export function isPageRequest(c: Context): boolean {
  const { method, path } = c.req
  return (method === 'GET' || method === 'HEAD') && path !== '/api' && !path.startsWith('/api/')
}
