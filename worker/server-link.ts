/**
 * The dispatcher's side of the server link. Servers are trusted, but their
 * frames are still validated as ServerMessages (a bad one is dropped and
 * counted). A server names itself in `hello` (serverId, stable across its
 * restarts; bootId, new per process) and messages about its jobs go to the
 * connection that said hello last under that serverId.
 *
 *   server DEALER                                   dispatcher ROUTER (handover)
 *     hello {serverId, bootId}  ------------------>  (new bootId: replay unacked)
 *                               <------------------  welcome {bootId, pool}
 *                               <------------------  [replayed started/output/end…]
 *     submit {job}              ------------------>  scheduler.submit (repeat: ignored)
 *     cancel {jobId}            ------------------>  scheduler.cancel
 *     endSession {session}      ------------------>  scheduler.endSession (its cells cancelled, its sandbox told)
 *                               <------------------  sessionEnded {session, reason}  (context lost; not retained)
 *     checkSessions {sessions}  ------------------>  scheduler.checkSessions
 *                               <------------------  sessionEnded {session, reason}  for each one no sandbox holds
 *                               <------------------  started / output / end {msgSeq}
 *     ack {acks: [{jobId, upTo}]} ---------------->  ledger drops ≤ upTo
 *     workers {requestId}       ------------------>  (pool + launcher hosts, now)
 *                               <------------------  workers {requestId, hosts, sandboxes}  (no msgSeq, not retained)
 */
import { decode, encode, ProtocolError, serverMessageSchema, type DispatcherMessage, type PoolState, type ServerMessage, type WorkersReport } from '../protocol/index.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { Drops } from './drops.ts'
import type { Scheduler } from './scheduler.ts'

interface ServerPeer {
  serverId: string
  routingId: Buffer
  routeKey: string
  bootId: string
}

export interface ServerLinkOptions {
  bootId: string
  scheduler: Scheduler
  poolState(): PoolState
  /** Hosts and sandboxes as they are now, for a `workers` request. */
  workers(): WorkersReport
  send(serverId: string, frame: Buffer): void
  drops: Drops
  /** The process's logger; the link logs as component `server-link`. */
  log: Logger
}

export class ServerLink {
  private readonly byRoute = new Map<string, ServerPeer>()
  private readonly byServer = new Map<string, ServerPeer>()
  private readonly log: Logger

  constructor(private readonly options: ServerLinkOptions) {
    this.log = options.log.child({ component: 'server-link' })
  }

  /** The routing id to reach the server now, if it ever said hello. */
  route(serverId: string): Buffer | undefined {
    return this.byServer.get(serverId)?.routingId
  }

  /** One ZeroMQ message from the server ROUTER: [routingId, frame, frame, …]. */
  receive(parts: Buffer[]): void {
    const routingId = parts[0]!
    const routeKey = routingId.toString('latin1')
    for (let i = 1; i < parts.length; i++) {
      let message: ServerMessage
      try {
        message = decode(serverMessageSchema, parts[i]!)
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err
        this.options.drops.drop('invalid-server', routeKey, () => err.message)
        continue
      }
      if (message.type === 'hello') {
        this.hello(routingId, routeKey, message.serverId, message.bootId)
        continue
      }
      const peer = this.byRoute.get(routeKey)
      if (!peer) {
        // Safe to drop: the server re-submits its queued jobs when the welcome it gets shows a new dispatcher.
        this.options.drops.drop('no-hello', routeKey, () => message.type)
        continue
      }
      this.handle(peer, message)
    }
  }

  private hello(routingId: Buffer, routeKey: string, serverId: string, bootId: string): void {
    let peer = this.byServer.get(serverId)
    if (!peer) {
      peer = { serverId, routingId, routeKey, bootId }
      this.byServer.set(serverId, peer)
      this.log.info({ serverId, bootId }, 'server connected')
    } else if (peer.routeKey !== routeKey) {
      this.byRoute.delete(peer.routeKey)
      peer.routingId = routingId
      peer.routeKey = routeKey
    }
    this.byRoute.set(routeKey, peer)
    const { send, scheduler } = this.options
    send(serverId, encode({ type: 'welcome', bootId: this.options.bootId, pool: this.options.poolState() }))
    if (peer.bootId === bootId) return
    // The server restarted and may have missed anything it did not ack.
    peer.bootId = bootId
    let replayed = 0
    for (const job of scheduler.jobsOf(serverId)) {
      for (const frame of job.unacked()) {
        send(serverId, frame)
        replayed++
      }
    }
    this.log.info({ serverId, bootId, replayed }, 'server restarted: unacked messages replayed')
  }

  private handle(peer: ServerPeer, message: Exclude<ServerMessage, { type: 'hello' }>): void {
    const { scheduler } = this.options
    switch (message.type) {
      case 'submit':
        scheduler.submit(peer.serverId, message.job)
        break
      case 'cancel':
        // Any server may cancel: behind a load balancer the request can reach another web instance.
        scheduler.cancel(message.jobId)
        break
      case 'ack':
        for (const { jobId, upTo } of message.acks) scheduler.ack(peer.serverId, jobId, upTo)
        break
      case 'endSession':
        scheduler.endSession(message.session)
        break
      case 'checkSessions':
        scheduler.checkSessions(peer.serverId, message.sessions)
        break
      case 'workersRequest':
        this.options.send(peer.serverId, encode({ type: 'workersReport', requestId: message.requestId, ...this.options.workers() } satisfies DispatcherMessage))
        break
    }
  }
}
