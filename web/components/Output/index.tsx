/**
 * One output of a cell, rendered by its mime type, never trusting its data:
 * text as text; HTML in a sandboxed frame; SVG through <img> (an image's
 * scripts never run); raster images only from well-formed base64; JSON as a
 * tree; tables as tables. Anything else is shown as text with its type.
 */
import type { Output as CellOutput } from '../../api.ts'
import { HtmlFrame } from '../HtmlFrame/index.tsx'
import { JsonTree } from '../JsonTree/index.tsx'
import { readTable, Table, TABLE_MIME } from '../Table/index.tsx'
import './style.css'

const RASTER = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** @example <Output output={{ seq: 1, stream: 'stdout', mime: 'text/plain', data: 'hi\n' }} /> */
export function Output({ output }: { output: CellOutput }) {
  const { seq, stream, mime, data } = output
  const cls = `output output--${stream}`

  if (mime === 'text/html') {
    return (
      <div class={cls} data-mime={mime}>
        <HtmlFrame html={data} title={`HTML output ${seq}`} />
      </div>
    )
  }
  if (mime === 'image/svg+xml') {
    return (
      <div class={cls} data-mime={mime}>
        <img class="output__image" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(data)}`} alt={`SVG image output ${seq}`} />
      </div>
    )
  }
  if (RASTER.has(mime) && BASE64.test(data)) {
    return (
      <div class={cls} data-mime={mime}>
        <img class="output__image" src={`data:${mime};base64,${data}`} alt={`Image output ${seq}`} />
      </div>
    )
  }
  if (mime === TABLE_MIME) {
    const table = readTable(data)
    if (table) {
      return (
        <div class={cls} data-mime={mime}>
          <Table table={table} label={`Table output ${seq}`} />
        </div>
      )
    }
  }
  if (mime === 'application/json') {
    const value = parseJson(data)
    if (value.ok) {
      return (
        <div class={cls} data-mime={mime}>
          <JsonTree value={value.value} />
        </div>
      )
    }
  }
  return (
    <div class={cls} data-mime={mime}>
      {mime !== 'text/plain' && <span class="output__mime">{mime}</span>}
      <pre class="output__text">{data}</pre>
    </div>
  )
}

function parseJson(data: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(data) }
  } catch {
    return { ok: false }
  }
}
