import type { Connection, Libp2p } from '@libp2p/interface'
import { closeIfSilent } from './connection-ping.js'

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
 * one opens, and closed if it does not answer in time (connection-ping.ts).
 * One that answers stays: nothing running on a live connection is cut.
 */
export function closeStaleConnections (node: Pick<Libp2p, 'addEventListener' | 'getConnections'>, opts: StaleConnectionsOptions = {}): void {
  node.addEventListener('connection:open', (evt) => {
    const fresh = evt.detail
    for (const older of node.getConnections(fresh.remotePeer)) {
      if (older === fresh || older.status !== 'open') continue
      void closeIfSilent(older, 'a newer connection to the peer opened', opts.timeoutMs).then((closed) => { opts.onProbe?.(older, closed) })
    }
  })
}
