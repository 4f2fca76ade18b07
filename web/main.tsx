/**
 * Entry point of the single-page client: mounts the app and routes by path.
 * `/` is an empty cell; `/cells/:id` is the same page showing that cell's code
 * and result, so a link to a result can be opened later. `/notebooks/new` is
 * an empty notebook and `/notebooks/:id` a saved one. The server answers
 * index.html for all of them.
 */
import { render } from 'preact'
import { usePath } from './hooks/use-path.ts'
import { CellPage } from './pages/Cell/index.tsx'
import { NEW_NOTEBOOK_PATH, NotebookPage } from './pages/Notebook/index.tsx'
import { NotFound } from './pages/NotFound/index.tsx'
import './style.css'

const CELL_PATH = /^\/cells\/([^/]+)\/?$/
const NOTEBOOK_PATH = /^\/notebooks\/([^/]+)\/?$/

function App() {
  const [path, navigate] = usePath()
  if (path === '/') return <CellPage navigate={navigate} />
  const cell = CELL_PATH.exec(path)
  if (cell) return <CellPage cellId={decodeURIComponent(cell[1]!)} navigate={navigate} />
  if (path === NEW_NOTEBOOK_PATH) return <NotebookPage navigate={navigate} />
  const notebook = NOTEBOOK_PATH.exec(path)
  if (notebook) return <NotebookPage notebookId={decodeURIComponent(notebook[1]!)} navigate={navigate} />
  return <NotFound />
}

render(<App />, document.getElementById('app')!)
