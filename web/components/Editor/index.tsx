/**
 * The code editor: CodeMirror 6 with JavaScript highlighting, loaded as its
 * own chunk so the page shows before the editor's code arrives. Controlled by
 * `value`/`onChange` like an input; Ctrl/Cmd+Enter calls `onRun`. Tab is left
 * to the browser (no indentWithTab) so keyboard users can leave the editor.
 *
 * The page's `value` can lag the editor: two keys less than a frame apart
 * are two edits before the page renders the first, so a render may bring
 * back text the editor has already moved past. Putting that text back would
 * undo the second edit and report it again, and the two would undo each
 * other without end. So a `value` the editor itself reported is never put
 * back; only text the page brings from elsewhere (another cell's code) is.
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
  // What the editor reported that has not come back as `value` yet, oldest first.
  const unechoed = useRef<string[]>([])
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
        onChange: (doc) => {
          unechoed.current.push(doc)
          props.current.onChange(doc)
        },
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
    const echoed = unechoed.current.lastIndexOf(value)
    if (echoed >= 0) {
      // The page caught up with an edit made here, maybe not the latest: the editor has it.
      unechoed.current.splice(0, echoed + 1)
      return
    }
    unechoed.current = []
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
