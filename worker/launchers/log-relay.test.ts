/**
 * The bounded log relay, fed through an in-memory stream:
 *
 *   PassThrough (child stdout) ──chunks──> relayLines ──prefixed lines──> array
 */
import { PassThrough } from 'node:stream'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { relayLines } from './log-relay.ts'

async function relay(chunks: string[], options: Parameters<typeof relayLines>[3] = {}): Promise<string[]> {
  const stream = new PassThrough()
  const lines: string[] = []
  relayLines(stream, '[p] ', (line) => lines.push(line), options)
  for (const chunk of chunks) stream.write(chunk)
  stream.end()
  await once(stream, 'end')
  return lines
}

describe('relayLines', () => {
  it('splits chunks into prefixed lines, joining lines cut across chunks', async () => {
    expect(await relay(['one\ntw', 'o\nthree'])).toEqual(['[p] one', '[p] two', '[p] three'])
  })

  it('cuts long lines, including one that never ends', async () => {
    const lines = await relay(['x'.repeat(50), 'y'.repeat(50), '\nz'.repeat(1)], { maxLineChars: 10 })
    expect(lines).toEqual([`[p] ${'x'.repeat(10)}… (line cut)`, '[p] z'])
  })

  it('drops what is over the budget of a window and says how much', async () => {
    const lines = await relay(['aaaa\n'.repeat(10)], { charsPerWindow: 12, windowMs: 60_000 })
    expect(lines).toEqual(['[p] aaaa', '[p] aaaa', '[p] aaaa', '[p] … 28 characters of output dropped'])
  })
})
