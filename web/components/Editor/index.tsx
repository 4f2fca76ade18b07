/**
 * The code editor: CodeMirror 6 with JavaScript highlighting, loaded as its
 * own chunk so the page shows before the editor's code arrives. Controlled by
 * `value`/`onChange` like an input; Ctrl/Cmd+Enter calls `onRun`. Tab is left
 * to the browser (no indentWithTab) so keyboard users can leave the editor.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import type { EditorView } from '@codemirror/view'
import './style.css'

type Setup = typeof import('./setup.ts')

export interface EditorProps {
  value: string
  onChange(value: string): void
  /** Ctrl/Cmd+Enter. */
  onRun(): void
  /** Accessible name of the editing area. */
  label: string
  /** Id of an element describing the editor (e.g. its keyboard hint). */
  describedBy?: string
  /**
   * More key bindings, in CodeMirror's notation ('Shift-Enter', 'Alt-ArrowUp',
   * 'Escape'), above the editor's own; a handler returns false to leave the key
   * to the editor (Escape still closes a completion list).
   */
  keys?: Record<string, () => boolean>
}

/** @example <Editor label="Cell code" value={code} onChange={setCode} onRun={run} /> */
export function Editor({ value, onChange, onRun, label, describedBy, keys }: EditorProps) {
  const host = useRef<HTMLDivElement>(null)
  const editor = useRef<{ view: EditorView; setup: Setup } | null>(null)
  const [ready, setReady] = useState(false)
  // The view is made once; it reads the latest props through this ref.
  const props = useRef({ value, onChange, onRun, keys, label, describedBy })
  props.current = { value, onChange, onRun, keys, label, describedBy }

  useEffect(() => {
    let unmounted = false
    void import('./setup.ts').then((setup) => {
      if (unmounted) return
      const view = setup.createEditor(host.current!, {
        doc: props.current.value,
        label: props.current.label,
        describedBy: props.current.describedBy,
        onChange: (doc) => props.current.onChange(doc),
        onRun: () => props.current.onRun(),
        // The bound keys are fixed when the view is made; their handlers are the latest props'.
        keys: Object.fromEntries(Object.keys(props.current.keys ?? {}).map((key) => [key, () => props.current.keys?.[key]?.() ?? false])),
      })
      editor.current = { view, setup }
      setReady(true)
    })
    return () => {
      unmounted = true
      editor.current?.view.destroy()
    }
    // Created once; later `value` changes are applied below.
  }, [])

  useEffect(() => {
    editor.current?.setup.setDoc(editor.current.view, value)
  }, [value])

  useEffect(() => {
    editor.current?.setup.setLabel(editor.current.view, label, describedBy)
  }, [label, describedBy])

  return (
    <div class="editor" aria-busy={!ready}>
      {!ready && <p class="editor__loading">Loading editor…</p>}
      <div ref={host} />
    </div>
  )
}
