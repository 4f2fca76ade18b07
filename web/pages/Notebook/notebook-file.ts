/**
 * A notebook as data leaving and entering the page: what Save sends (each
 * cell's last run, bounded so a chatty cell cannot make the notebook too big
 * to store), the .json file Export writes, and the checks Import makes on a
 * file, which may hold anything.
 */
import type { NotebookCell, NotebookRequest, Output } from '../../api.ts'

/** What the file says it is, so Import can refuse other JSON files. */
export const FILE_FORMAT = 'cellgate-notebook'
const FILE_VERSION = 1

/** Output text kept per saved cell; the server takes at most 1 MB for a whole notebook. */
const SAVED_OUTPUT_CHARS = 128 * 1024
/** Outputs kept per saved cell (the server's MAX_SAVED_OUTPUTS). */
const SAVED_OUTPUTS = 500

/**
 * The first outputs of a run, up to the bounds, and a note saying what was left out.
 * @example boundOutputs(cell.outputs) // the same list when it is small
 */
export function boundOutputs(outputs: readonly Output[]): Output[] {
  const kept: Output[] = []
  let chars = 0
  for (const output of outputs) {
    chars += output.data.length
    if (chars > SAVED_OUTPUT_CHARS || kept.length === SAVED_OUTPUTS - 1) {
      const left = outputs.length - kept.length
      kept.push({ seq: output.seq, stream: 'stderr', mime: 'text/plain', data: `[${left} more outputs were not saved with the notebook]\n` })
      return kept
    }
    kept.push(output)
  }
  return kept
}

/** The notebook as an exported file's text. */
export function toFileText(notebook: NotebookRequest): string {
  return JSON.stringify({ format: FILE_FORMAT, version: FILE_VERSION, ...notebook }, null, 2)
}

/** A file name from the title: letters, digits and dashes. */
export function fileName(title: string): string {
  const base = title.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
  return `${base || 'notebook'}.json`
}

export class NotebookFileError extends Error {
  override name = 'NotebookFileError'
}

/**
 * Reads an exported file back: its title and cells, with outputs, result and
 * error kept only where they have the shape the page shows. Throws
 * NotebookFileError saying what is wrong.
 * @example const { title, cells } = parseFile(await file.text())
 */
export function parseFile(text: string): NotebookRequest {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new NotebookFileError('the file is not JSON')
  }
  if (!isObject(data) || data.format !== FILE_FORMAT) throw new NotebookFileError(`the file is not a cellgate notebook (no "format": "${FILE_FORMAT}")`)
  if (!Array.isArray(data.cells)) throw new NotebookFileError('the file has no list of cells')
  const cells = data.cells.map((cell: unknown, i): NotebookCell => {
    if (!isObject(cell) || typeof cell.code !== 'string') throw new NotebookFileError(`cell ${i + 1} has no code`)
    const read: NotebookCell = { code: cell.code }
    if (Array.isArray(cell.outputs) && cell.outputs.every(isOutput)) read.outputs = cell.outputs
    if (isObject(cell.result) && typeof cell.result.text === 'string') read.result = { text: cell.result.text }
    if (isObject(cell.error) && typeof cell.error.name === 'string' && typeof cell.error.message === 'string') {
      read.error = { name: cell.error.name, message: cell.error.message, ...(typeof cell.error.stack === 'string' && { stack: cell.error.stack }) }
    }
    return read
  })
  return { title: typeof data.title === 'string' ? data.title : '', cells }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isOutput(value: unknown): value is Output {
  return isObject(value) && typeof value.seq === 'number' && typeof value.data === 'string' && typeof value.mime === 'string'
    && (value.stream === 'stdout' || value.stream === 'stderr' || value.stream === 'display')
}
