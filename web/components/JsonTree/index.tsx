/**
 * A JSON value as a collapsible tree built from <details>, so it opens and
 * closes with the keyboard and screen readers announce it without extra ARIA.
 * A closed branch renders none of its children: big values stay cheap.
 */
import { useState } from 'preact/hooks'
import './style.css'

const OPEN_DEPTH = 2

export interface JsonTreeProps {
  value: unknown
  /** The key or index this value has in its parent. */
  name?: string
  depth?: number
}

/** @example <JsonTree value={{ a: [1, 2], b: null }} /> */
export function JsonTree({ value, name, depth = 0 }: JsonTreeProps) {
  const [open, setOpen] = useState(depth < OPEN_DEPTH)
  const label = name !== undefined && <span class="json-tree__key">{name}: </span>
  const root = depth === 0 ? ' json-tree--root' : ''

  if (value === null || typeof value !== 'object') {
    return (
      <div class={`json-tree json-tree__leaf${root}`}>
        {label}
        <span class={`json-tree__${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    )
  }

  const isArray = Array.isArray(value)
  const entries: [string, unknown][] = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value)
  if (entries.length === 0) {
    return (
      <div class={`json-tree json-tree__leaf${root}`}>
        {label}
        {isArray ? '[]' : '{}'}
      </div>
    )
  }

  const count = entries.length
  const summary = isArray ? `Array(${count})` : `{${count} ${count === 1 ? 'key' : 'keys'}}`
  return (
    <details
      class={`json-tree${root}`}
      open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>
        {label}
        <span class="json-tree__summary">{summary}</span>
      </summary>
      {open && (
        <div class="json-tree__children">
          {entries.map(([k, v]) => (
            <JsonTree key={k} name={k} value={v} depth={depth + 1} />
          ))}
        </div>
      )}
    </details>
  )
}
