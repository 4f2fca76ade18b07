/**
 * HTML a cell displayed, rendered where it can do no harm: an iframe with an
 * empty `sandbox` (no scripts, no same-origin, no forms, no top navigation)
 * and a Content-Security-Policy that stops it loading anything from the
 * network (nested frames included), its markup made unable to navigate the
 * frame itself (inert.ts). A sandboxed frame's document cannot be measured from here, so its
 * height is guessed from the markup and the reader can resize it.
 */
import { useMemo } from 'preact/hooks'
import { inertDocument } from './inert.ts'
import './style.css'

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
const PRELUDE =
  `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}">` +
  '<style>body{margin:8px;font-family:system-ui,sans-serif}</style>'

const LINE_PX = 24
const IMAGE_PX = 160
const MIN_PX = 48
const MAX_PX = 480

function guessHeight(html: string): number {
  const blocks = html.match(/<(br|p|div|li|tr|h[1-6]|pre|hr|blockquote|dt|dd)\b/gi)?.length ?? 0
  const images = html.match(/<(img|svg|canvas|video)\b/gi)?.length ?? 0
  const lines = Math.max(1, blocks, html.split('\n').length)
  return Math.min(MAX_PX, Math.max(MIN_PX, lines * LINE_PX + images * IMAGE_PX + 16))
}

/** @example <HtmlFrame html="<b>hi</b>" title="HTML output 3" /> */
export function HtmlFrame({ html, title }: { html: string; title: string }) {
  const srcdoc = useMemo(() => inertDocument(PRELUDE, html), [html])
  return (
    <div class="html-frame" style={{ height: `${guessHeight(html)}px` }}>
      <iframe class="html-frame__iframe" sandbox="" srcdoc={srcdoc} title={title} />
    </div>
  )
}
