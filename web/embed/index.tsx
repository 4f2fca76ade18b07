/**
 * The embed script, served by cellgate as /embed.js. A page of any site adds
 *
 *   <script src="https://cells.example.org/embed.js" defer></script>
 *   <div data-cellgate>console.log('hi')</div>
 *   <div data-cellgate data-cellgate-session="demo">x = 41</div>
 *   <div data-cellgate data-cellgate-session="demo">x + 1</div>
 *
 * and each such element becomes a live cell talking to that cellgate (the
 * script's own origin); cells naming the same session share one, and the
 * page ends its sessions when it is closed (sessions.ts). A page with a
 * publishable key of its own (made with its origins, so no other site can
 * spend it) names it as `data-cellgate-key="cg_pk_…"` on the script tag, for
 * every cell, or on one cell element, for that cell; the cells then run
 * and hold sessions as the key's account, with its quota. Built as one
 * IIFE: it defines the single global `cellgate` ({origin, scan}) and nothing
 * else, and brings its libraries (Preact) inside the closure.
 */
import { cellsApi } from '../api.ts'
// Into embed.css, which each cell's shadow root loads: the reset first, then the app's base.
import './style.css'
import '../style.css'
import { mountCell, type EmbedContext } from './mount.tsx'
import { pageSessions } from './sessions.ts'

const script = document.currentScript as HTMLScriptElement | null
if (!script?.src) throw new Error('cellgate: load embed.js with a <script src> tag (it finds its cellgate from its own address)')

/** The cellgate this script came from; cells run there. */
export const origin = new URL(script.src).origin

/** The page's key for all its cells, if it names one. */
const pageKey = script.dataset.cellgateKey || undefined

/** One API and one set of sessions per key: a session belongs to the account of the key that made it. */
const contexts = new Map<string | undefined, EmbedContext>()
function contextFor(key: string | undefined): EmbedContext {
  let context = contexts.get(key)
  if (!context) {
    const api = cellsApi(origin, key)
    // Sessions kept in the tab per key as well: one made with a key is no use to a cell without it.
    context = { origin, api, sessions: pageSessions(api, key ? `${origin} ${key}` : origin) }
    contexts.set(key, context)
  }
  return context
}
// A closed or reloaded page leaves no session behind to count against the reader's computer.
addEventListener('pagehide', () => {
  for (const { sessions } of contexts.values()) sessions.endAll()
})
const mounted = new WeakSet<Element>()

/**
 * Turns every `[data-cellgate]` element under `root` not yet turned into a cell;
 * runs by itself once the page is parsed. Call it again after adding cells.
 * @example cellgate.scan(document.getElementById('article'))
 */
export function scan(root: ParentNode = document): void {
  for (const element of root.querySelectorAll<HTMLElement>('[data-cellgate]')) {
    if (mounted.has(element)) continue
    mounted.add(element)
    mountCell(element, contextFor(element.dataset.cellgateKey || pageKey))
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => scan(), { once: true })
else scan()
