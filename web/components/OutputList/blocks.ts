/**
 * How a cell's outputs are grouped for showing: runs of console text merged
 * into one block, and each interact with the outputs that follow it (its
 * function's), which its controls replace when they run it again.
 */
import type { Output as CellOutput } from '../../api.ts'
import { INTERACT_MIME } from '../Interact/data.ts'

export type Block = { output: CellOutput } | { interact: CellOutput; outputs: CellOutput[] }

function isConsoleText(output: CellOutput): boolean {
  return output.mime === 'text/plain' && output.stream !== 'display'
}

/** Joins runs of console text; each output starts on its own line, as console.log's do. */
export function mergeConsoleText(outputs: CellOutput[]): CellOutput[] {
  const merged: CellOutput[] = []
  for (const output of outputs) {
    const last = merged.at(-1)
    if (last && isConsoleText(output) && isConsoleText(last) && last.stream === output.stream) {
      const separator = last.data.endsWith('\n') ? '' : '\n'
      merged[merged.length - 1] = { ...last, data: last.data + separator + output.data }
    } else {
      merged.push(output)
    }
  }
  return merged
}

/**
 * Outputs before the first interact stand alone; every output after an
 * interact, up to the next one, belongs to it.
 * @example blocksOf(job.outputs).map((b) => ('interact' in b ? <Interact … /> : <Output … />))
 */
export function blocksOf(outputs: CellOutput[]): Block[] {
  const blocks: Block[] = []
  let open: { interact: CellOutput; outputs: CellOutput[] } | undefined
  for (const output of mergeConsoleText(outputs)) {
    if (output.stream === 'display' && output.mime === INTERACT_MIME) {
      open = { interact: output, outputs: [] }
      blocks.push(open)
    } else if (open) {
      open.outputs.push(output)
    } else {
      blocks.push({ output })
    }
  }
  return blocks
}
