/**
 * A cell's outputs in order, as they stream in, kept scrolled to the newest
 * unless the reader has scrolled up. Consecutive plain-text outputs of one
 * console stream are shown as one block: a loop that logs thousands of lines
 * makes one <pre>, not thousands. An interact shows its controls and the
 * outputs of its function (blocks.ts).
 */
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks'
import type { Output as CellOutput } from '../../api.ts'
import { Interact } from '../Interact/index.tsx'
import { readInteract } from '../Interact/data.ts'
import { Output } from '../Output/index.tsx'
import { blocksOf, type Block } from './blocks.ts'
import './style.css'

/** How close to the bottom (px) still counts as "following" the output. */
const STICK_PX = 8

/** @example <OutputList outputs={cell.outputs} /> */
export function OutputList({ outputs }: { outputs: CellOutput[] }) {
  const blocks = useMemo(() => blocksOf(outputs), [outputs])
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
      {blocks.map(renderBlock)}
    </div>
  )
}

function renderBlock(block: Block) {
  if ('output' in block) return <Output key={block.output.seq} output={block.output} />
  const data = readInteract(block.interact.data)
  // Keyed by its id too: a cell run again brings a new interact, with fresh state, at the same seq.
  if (data) return <Interact key={`${block.interact.seq}-${data.id}`} data={data} outputs={block.outputs} />
  // Not a well-formed interact (a hand-edited notebook): its data as text, then what followed it.
  return [block.interact, ...block.outputs].map((output) => <Output key={output.seq} output={output} />)
}
