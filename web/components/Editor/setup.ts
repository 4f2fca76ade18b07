/**
 * Builds the CodeMirror view behind <Editor>. It is its own module so the
 * editor (most of the bundle) is loaded as a separate chunk while the page
 * renders.
 */
import { basicSetup, EditorView } from 'codemirror'
import { EditorState, Prec } from '@codemirror/state'
import { keymap } from '@codemirror/view'
import { javascript } from '@codemirror/lang-javascript'

export interface EditorOptions {
  doc: string
  /** Accessible name of the editing area. */
  label: string
  describedBy?: string
  onChange(doc: string): void
  onRun(): void
}

/** @example const view = createEditor(div, { doc: '1 + 1', label: 'Code', onChange, onRun }) */
export function createEditor(parent: HTMLElement, options: EditorOptions): EditorView {
  const attributes: Record<string, string> = { 'aria-label': options.label }
  if (options.describedBy) attributes['aria-describedby'] = options.describedBy
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        // Above basicSetup, whose default keymap binds Mod-Enter to "insert blank line".
        Prec.highest(
          keymap.of([
            {
              key: 'Mod-Enter',
              run: () => {
                options.onRun()
                return true
              },
            },
          ]),
        ),
        basicSetup,
        javascript(),
        EditorView.contentAttributes.of(attributes),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString())
        }),
      ],
    }),
  })
}

/** Replaces the whole text, when the page loads another cell's code. */
export function setDoc(view: EditorView, doc: string): void {
  if (doc !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc } })
}
