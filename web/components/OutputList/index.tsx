/**
 * A cell's outputs in order, as they stream in, kept scrolled to the newest
 * unless the reader has scrolled up. Consecutive plain-text outputs of one
 * console stream are shown as one block: a loop that logs thousands of lines
 * makes one <pre>, not thousands.
 */
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks'
import type { Output as CellOutput } from '../../api.ts'
import { Output } from '../Output/index.tsx'
import './style.css'

/** How close to the bottom (px) still counts as "following" the output. */
const STICK_PX = 8

function isConsoleText(output: CellOutput): boolean {
  return output.mime === 'text/plain' && output.stream !== 'display'
}

/** Joins runs of console text; each output starts on its own line, as console.log's do. */
function mergeConsoleText(outputs: CellOutput[]): CellOutput[] {
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

/** @example <OutputList outputs={cell.outputs} /> */
export function OutputList({ outputs }: { outputs: CellOutput[] }) {
  const blocks = useMemo(() => mergeConsoleText(outputs), [outputs])
  const list = useRef<HTMLDivElement>(null)
  const following = useRef(true)

  useLayoutEffect(() => {
    const el = list.current
    if (el && following.current) el.scrollTop = el.scrollHeight
  }, [blocks])

  const onScroll = () => {
    const el = list.current
    if (el) following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - STICK_PX
  }

  return (
    // Focusable so keyboard users can scroll a long log.
    <div class="output-list" role="log" aria-label="Output" tabIndex={0} ref={list} onScroll={onScroll}>
      {blocks.map((output) => (
        <Output key={output.seq} output={output} />
      ))}
    </div>
  )
}
