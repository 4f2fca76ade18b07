/**
 * Builds the CodeMirror view behind <Editor>. It is its own module so the
 * editor (most of the bundle) is loaded as a separate chunk while the page
 * renders.
 */
import { basicSetup, EditorView } from 'codemirror'
import { Annotation, Compartment, EditorState, Prec } from '@codemirror/state'
import { keymap } from '@codemirror/view'
import { javascript } from '@codemirror/lang-javascript'

export interface EditorOptions {
  doc: string
  /** Accessible name of the editing area. */
  label: string
  describedBy?: string
  onChange(doc: string): void
  onRun(): void
  /** More bindings above the editor's own; see EditorProps.keys. */
  keys?: Record<string, () => boolean>
}

/** Marks a change the page made (setDoc): the page has that text already, so it is not reported back as an edit. */
const fromPage = Annotation.define<true>()

/** The accessible name can change after the view is made (a notebook's "Cell 3 code" moved up becomes "Cell 2 code"). */
const labelling = new Compartment()

function labelAttributes(label: string, describedBy?: string) {
  const attributes: Record<string, string> = { 'aria-label': label }
  if (describedBy) attributes['aria-describedby'] = describedBy
  return EditorView.contentAttributes.of(attributes)
}

/** @example const view = createEditor(div, { doc: '1 + 1', label: 'Code', onChange, onRun }) */
export function createEditor(parent: HTMLElement, options: EditorOptions): EditorView {
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
            ...Object.entries(options.keys ?? {}).map(([key, run]) => ({ key, run })),
          ]),
        ),
        basicSetup,
        javascript(),
        labelling.of(labelAttributes(options.label, options.describedBy)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !update.transactions.some((tr) => tr.annotation(fromPage))) options.onChange(update.state.doc.toString())
        }),
      ],
    }),
  })
}

/** Replaces the whole text, when the page loads another cell's code. */
export function setDoc(view: EditorView, doc: string): void {
  if (doc !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc }, annotations: fromPage.of(true) })
}

/** Renames the editing area. */
export function setLabel(view: EditorView, label: string, describedBy?: string): void {
  view.dispatch({ effects: labelling.reconfigure(labelAttributes(label, describedBy)) })
}
