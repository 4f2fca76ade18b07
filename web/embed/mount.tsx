/**
 * Turns one element of a host page into a live cell. The cell lives in a
 * shadow root, so the host page's CSS does not reach it and its CSS does not
 * reach the page; the element's own text (the code) stays in the light DOM,
 * unrendered, for readers without JavaScript.
 */
import { render } from 'preact'
import type { CellsApi } from '../api.ts'
import { EmbedCell } from './embed-cell.tsx'
import type { PageSessions } from './sessions.ts'

export interface EmbedContext {
  /** The cellgate serving the script, e.g. `https://cells.example.org`. */
  origin: string
  api: CellsApi
  sessions: PageSessions
}

/**
 * @example mountCell(document.querySelector('[data-cellgate]')!, context)
 */
export function mountCell(element: HTMLElement, context: EmbedContext): void {
  const shadow = shadowFor(element)
  const stylesheet = document.createElement('link')
  stylesheet.rel = 'stylesheet'
  stylesheet.href = `${context.origin}/embed.css`
  const root = document.createElement('div')
  root.className = 'cellgate-embed'
  shadow.append(stylesheet, root)
  render(<EmbedCell code={dedent(element.textContent ?? '')} session={element.dataset.cellgateSession || undefined} {...context} />, root)
}

/** Only some elements (div, section, p, span…) can hold a shadow root; others (pre) get a div beside them. */
function shadowFor(element: HTMLElement): ShadowRoot {
  try {
    return element.attachShadow({ mode: 'open' })
  } catch {
    const box = document.createElement('div')
    element.after(box)
    element.hidden = true
    return box.attachShadow({ mode: 'open' })
  }
}

/** Code as the author indented it inside their markup, without the common indentation and blank ends. */
function dedent(text: string): string {
  const lines = text.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n')
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length)
  const cut = indents.length ? Math.min(...indents) : 0
  return lines.map((l) => l.slice(cut)).join('\n')
}
