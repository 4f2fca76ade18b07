/**
 * The sandbox process. A launcher starts it as
 *   node --no-node-snapshot --import tsx sandbox/main.ts
 * and writes one SandboxBoot JSON line to its stdin. It connects a DEALER
 * (routing id = boot.id, CURVE when the boot line has keys) to
 * boot.endpoint and serves jobs. It exits when its
 * stdin ends (the launcher or its SSH session is gone: no orphans), when the
 * socket closes, or on SIGTERM (Node's default).
 *
 * It has no config: its few log lines (a bad boot line, a bad frame, a
 * failed send, an isolate lost) are pino JSON on stderr at a fixed level,
 * written synchronously so the line before an exit or abort is not lost.
 * The dispatcher relays them as untrusted text, never as its own records.
 */
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { Dealer } from 'zeromq'
import { parseBoot } from '../protocol/index.ts'
import { createLogger } from '../telemetry/logger.ts'
import { createDealerTransport } from './dealer-transport.ts'
import { closingProbes } from './heap-probe.ts'
import { serveSandbox } from './loop.ts'

const log = createLogger('sandbox', { level: 'info' }, pino.destination({ fd: 2, sync: true }))
const stdin = createInterface({ input: process.stdin, crlfDelay: Infinity })
stdin.once('close', () => process.exit(0))

const [line] = (await once(stdin, 'line')) as [string]
let boot
try {
  boot = parseBoot(line)
} catch (error) {
  log.fatal({ err: error }, 'bad boot line')
  process.exit(2)
}

// With CURVE keys (SSH launcher) the dispatcher lets the connection in only with the key pair it issued for this sandbox.
const curve = boot.curve ? { curveServerKey: boot.curve.serverKey, curvePublicKey: boot.curve.publicKey, curveSecretKey: boot.curve.secretKey } : {}
const dealer = new Dealer({ routingId: boot.id, linger: 0, ...curve })
dealer.connect(boot.endpoint)
await serveSandbox(createDealerTransport(dealer, log), { slots: boot.slots, log })
// An exit while an isolate's inspector session is open crashes (heap-probe.ts): let the last ones close.
await closingProbes()
process.exit(0)
