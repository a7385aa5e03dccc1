import type { Connection, Libp2p } from '@libp2p/interface'
import { answersPing } from './connection-ping.js'
import { componentLogger } from '../util/log.js'

const log = componentLogger('network:stale')

/** How long an older connection has to answer a ping before it is taken for dead (libp2p's own shortest ping timeout). */
export const STALE_PROBE_TIMEOUT_MS = 5_000

export interface StaleConnectionsOptions {
  timeoutMs?: number
  /** Told of each probe's outcome: `closed` if the connection was silent and is closed (for tests). */
  onProbe?: (connection: Connection, closed: boolean) => void
}

/**
 * A peer that opens a new connection while we still hold an older one has
 * often lost the older one: its address changed (a NAT box given a new
 * public IP, a laptop on another network) and the old connection is dead
 * without either side knowing yet. libp2p finds out at its next ping, up to
 * a minute later (PING_INTERVAL_MS), and meanwhile a router relays through
 * the dead one: circuit-relay's server sends each relayed connection's
 * request over the user's first connection, so every connect to that user
 * fails until then. So each older connection is pinged the moment a newer
 * one opens, and closed if it does not answer in time. One that answers
 * stays: nothing running on a live connection is cut.
 */
export function closeStaleConnections (node: Pick<Libp2p, 'addEventListener' | 'getConnections'>, opts: StaleConnectionsOptions = {}): void {
  const timeoutMs = opts.timeoutMs ?? STALE_PROBE_TIMEOUT_MS
  const probing = new WeakSet<Connection>()
  node.addEventListener('connection:open', (evt) => {
    const fresh = evt.detail
    for (const older of node.getConnections(fresh.remotePeer)) {
      if (older === fresh || older.status !== 'open' || probing.has(older)) continue
      probing.add(older)
      void answersPing(older, timeoutMs).then((answered) => {
        probing.delete(older)
        if (!answered) {
          log('closing %s connection to %s: a newer one opened and this one did not answer a ping in %d ms', older.direction, older.remotePeer.toString(), timeoutMs)
          older.abort(new Error(`stale: a newer connection to the peer opened and this one did not answer a ping within ${timeoutMs} ms`))
        }
        opts.onProbe?.(older, !answered)
      })
    }
  })
}
