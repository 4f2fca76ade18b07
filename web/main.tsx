/**
 * Entry point of the single-page client: mounts the app and routes by path
 * with preact-iso. `/` is an empty cell; `/cells/:id` is the same page
 * showing that cell's code and result, so a link to a result can be opened
 * later. `/notebooks/new` is an empty notebook and `/notebooks/:id` a saved
 * one. The server answers index.html for all of them. A page stays mounted
 * while only its route's parameters change (a run moving `/` to its
 * `/cells/:id`, Save moving `/notebooks/new` to its permalink). `/login`,
 * `/keys` and `/mine` are the account's pages; the bar above every page
 * (AccountNav) says who is logged in.
 */
import { render } from 'preact'
import { LocationProvider, Route, Router } from 'preact-iso'
import { AccountNav } from './components/AccountNav/index.tsx'
import { CellPage } from './pages/Cell/index.tsx'
import { KeysPage } from './pages/Keys/index.tsx'
import { LoginPage } from './pages/Login/index.tsx'
import { MinePage } from './pages/Mine/index.tsx'
import { NEW_NOTEBOOK_PATH, NotebookPage } from './pages/Notebook/index.tsx'
import { NotFound } from './pages/NotFound/index.tsx'
import './style.css'

/** Links into the API (the OIDC login's start, say) are the browser's to follow: a page load, not an app route. */
const APP_PATHS = /^\/(?!api\/)/

function App() {
  return (
    <LocationProvider scope={APP_PATHS}>
      <AccountNav />
      <Router>
        <Route path="/" component={CellPage} />
        <Route path="/cells/:cellId" component={CellPage} />
        {/* Before /notebooks/:notebookId, which `new` would match too. */}
        <Route path={NEW_NOTEBOOK_PATH} component={NotebookPage} />
        <Route path="/notebooks/:notebookId" component={NotebookPage} />
        <Route path="/login" component={LoginPage} />
        <Route path="/keys" component={KeysPage} />
        <Route path="/mine" component={MinePage} />
        <Route default component={NotFound} />
      </Router>
    </LocationProvider>
  )
}

render(<App />, document.getElementById('app')!)
