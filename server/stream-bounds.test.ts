/**
 * Event streams of a long job over real HTTP and real SQLite (issue 11,
 * item 6): a job of 150,000 outputs (as one stored before outputs per cell
 * were bounded) replayed to three clients in processes of their own while
 * /health is asked again and again; fifty clients that connect and never
 * read; and one of those resuming with Last-Event-ID after it was
 * disconnected.
 *
 *   replay-reader (x3, own processes) --GET /events--> server <--GET /health (x4 loops)-- this test
 *   paused http clients (x50)         --GET /events--> server: holds <= streamMaxUnsentBytes each, then disconnects
 */
import { get, type IncomingMessage } from 'node:http'
import { Registry } from 'prom-client'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Output } from '../protocol/index.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { metricValue } from '../telemetry/metrics.ts'
import { testConfig, type TestConfigInput } from '../test/support/config.ts'
import { longJobOutput, startReplayReader, storeLongJob } from '../test/support/long-job.ts'
import { RecordingLink } from '../test/support/server.ts'
import { readEvents, sseEvents } from '../test/support/sse.ts'
import { tempDir } from '../test/support/temp-dir.ts'
import { startServer, type RunningServer } from './main.ts'

const OUTPUTS = 150_000
const LARGE_OUTPUTS = 20_000

let server: RunningServer | undefined
const tmp = tempDir('cellgate-streams-')
afterEach(async () => {
  await server?.close()
  server = undefined
})
afterAll(() => tmp.remove())

async function start(sections: TestConfigInput['server'] = {}): Promise<RunningServer> {
  server = await startServer(testConfig({ server: { dataDir: tmp.dir, ...sections } }), { link: new RecordingLink(), logger: silentLogger(), registry: new Registry() })
  return server
}

describe('event streams of long jobs over HTTP', () => {
  it('answers /health between the pages of three replays of 150,000 outputs at once', async () => {
    const s = await start()
    const url = await storeLongJob(s.url, s.store, OUTPUTS)
    const readers = [0, 1, 2].map(() => startReplayReader(url))
    const received = () => readers.reduce((sum, r) => sum + r.outputs, 0)
    const replaying = () => readers.every((r) => r.outputs > 0 && r.outputs < OUTPUTS)
    // Outputs the readers received between one /health answer and the next, while all three replays went on.
    const gaps: number[] = []
    let last: number | null = null
    let ended = false
    const ask = async () => {
      while (!ended) {
        await (await fetch(`${s.url}/api/v1/health`)).text()
        if (!replaying()) continue
        if (last !== null) gaps.push(received() - last)
        last = received()
      }
    }
    const asking = Promise.all([ask(), ask(), ask(), ask()])
    const ends = await Promise.all(readers.map((r) => r.ended))
    ended = true
    await asking
    expect(ends).toEqual([`end ${OUTPUTS} done`, `end ${OUTPUTS} done`, `end ${OUTPUTS} done`])
    // The server turned to /health again and again while it replayed: never a tenth of the replay without an answer.
    expect(gaps.length).toBeGreaterThanOrEqual(10)
    expect(Math.max(...gaps)).toBeLessThan((3 * OUTPUTS) / 10)
  })

  it('disconnects clients that do not read once they hold the bound, holding at most that; one resumes with Last-Event-ID and gets every output once', async () => {
    const bound = 64 * 1024
    const s = await start({ streamMaxUnsentBytes: bound, streamStallMs: 300 })
    // Outputs of a kilobyte: a stream (20 MB) far larger than what the kernel's socket buffers take (about 4 MB a client).
    const url = await storeLongJob(s.url, s.store, LARGE_OUTPUTS, 1000)
    const value = (series: string) => metricValue(s.metrics.registry, series)
    const clients = await Promise.all(Array.from({ length: 50 }, () => pausedClient(url)))
    let mostUnsent = 0
    await expect.poll(async () => {
      mostUnsent = Math.max(mostUnsent, await value('cellgate_event_streams_unsent_bytes'))
      return value('cellgate_event_streams_stalled_total')
    }, { timeout: 60_000, interval: 20 }).toBe(50)
    expect(mostUnsent).toBeGreaterThan(0)
    expect(mostUnsent).toBeLessThanOrEqual(50 * bound)
    await expect.poll(() => value('cellgate_event_streams_open')).toBe(0)

    // What the first client got before it was cut off, then the rest after its last event.
    const before = await clients[0]!.readRest()
    const got: number[] = []
    for await (const event of sseEvents(new Response(before))) if (event.event === 'output') got.push(Number(event.id))
    expect(got.length).toBeLessThan(LARGE_OUTPUTS)
    let done: { status: string; outputs: Output[] } | undefined
    for await (const event of readEvents(url, { lastEventId: String(got.at(-1) ?? 0) })) {
      if (event.event === 'output') got.push((event.data as Output).seq)
      if (event.event === 'done') done = event.data as typeof done
    }
    expect(got).toEqual(Array.from({ length: LARGE_OUTPUTS }, (_, i) => i + 1))
    expect(done?.status).toBe('done')
    expect(done?.outputs).toHaveLength(LARGE_OUTPUTS)
    expect(done?.outputs.at(-1)).toEqual(longJobOutput(LARGE_OUTPUTS, 1000))
    for (const client of clients.slice(1)) client.response.destroy()
  }, 120_000)
})

/** An event stream whose response the client does not read; readRest() reads what it got, until the server closed it. */
function pausedClient(url: string): Promise<{ response: IncomingMessage; readRest(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.pause()
      const rest = new Promise<string>((done) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        // The server cuts it off mid-stream: what arrived before is the point.
        response.on('error', () => {})
        response.on('close', () => done(text))
      })
      resolve({ response, readRest: () => (response.resume(), rest) })
    }).on('error', reject)
  })
}
