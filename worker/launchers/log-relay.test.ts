/**
 * The bounded log relay, fed through an in-memory stream, logging into a
 * recording logger:
 *
 *   PassThrough (child stderr) ──chunks──> relayLines ──one record per line──> records
 */
import { PassThrough } from 'node:stream'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { capturingLogger, type LogRecord } from '../../test/support/logs.ts'
import { relayLines, type LogRelayOptions } from './log-relay.ts'

async function relay(chunks: string[], options: LogRelayOptions = {}): Promise<LogRecord[]> {
  const stream = new PassThrough()
  const { logger: log, records } = capturingLogger('dispatcher')
  relayLines(stream, log.child({ component: 'sandbox', sandboxId: 'sb-1', stream: 'stderr' }), options)
  for (const chunk of chunks) stream.write(chunk)
  stream.end()
  await once(stream, 'end')
  return records
}

const lines = (records: LogRecord[]): unknown[] => records.map((r) => r.line ?? `dropped ${String(r.droppedChars)}`)

describe('relayLines', () => {
  it('logs each line as its own record naming the sandbox and the stream, joining lines cut across chunks', async () => {
    const records = await relay(['one\ntw', 'o\nthree'])
    expect(lines(records)).toEqual(['one', 'two', 'three'])
    expect(records[0]).toMatchObject({ level: 40, process: 'dispatcher', component: 'sandbox', sandboxId: 'sb-1', stream: 'stderr', msg: 'sandbox output' })
  })

  it('keeps a JSON line from the sandbox as text: it cannot forge fields of the record', async () => {
    const forged = '{"level":60,"process":"dispatcher","component":"scheduler","sandboxId":"sb-other","msg":"forged"}'
    const [record, ...rest] = await relay([`${forged}\n`])
    expect(rest).toEqual([])
    expect(record).toMatchObject({ level: 40, process: 'dispatcher', component: 'sandbox', sandboxId: 'sb-1', line: forged, msg: 'sandbox output' })
  })

  it('cuts long lines, including one that never ends', async () => {
    expect(lines(await relay(['x'.repeat(50), 'y'.repeat(50), '\nz'], { maxLineChars: 10 }))).toEqual([`${'x'.repeat(10)}… (line cut)`, 'z'])
  })

  it('drops what is over the budget of a window and says how much', async () => {
    const records = await relay(['aaaa\n'.repeat(10)], { charsPerWindow: 12, windowMs: 60_000 })
    expect(lines(records)).toEqual(['aaaa', 'aaaa', 'aaaa', 'dropped 28'])
    expect(records.at(-1)).toMatchObject({ component: 'sandbox', sandboxId: 'sb-1', msg: 'sandbox output over its budget dropped', charsPerWindow: 12 })
  })

  it('leaves out the lines the launcher consumes', async () => {
    expect(lines(await relay(['pid 12\nrest\n'], { consume: (line) => line.startsWith('pid ') }))).toEqual(['rest'])
  })
})
