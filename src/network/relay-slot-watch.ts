import type { Connection, Libp2p } from '@libp2p/interface'
import { answersPing } from './connection-ping.js'
import { routerOf } from './addresses.js'
import { STALE_PROBE_TIMEOUT_MS } from './stale-connections.js'
import { componentLogger } from '../util/log.js'

const log = componentLogger('network:relay-slots')

/** How often a user reached through routers checks his connections to them. */
export const RELAY_SLOT_PING_MS = 15_000

export interface RelaySlotWatchOptions {
  intervalMs?: number
  timeoutMs?: number
  /** Told of each ping's outcome: `closed` if the connection was silent and is closed (for tests). */
  onPing?: (connection: Connection, closed: boolean) => void
}

/**
 * A user behind a NAT is reached only through his connections to the
 * routers he holds slots on, and when his address changes (a NAT box given
 * a new public IP, a laptop on another network) they die without a word.
 * libp2p would find out at its next ping, up to a minute away
 * (PING_INTERVAL_MS), and only then take new slots; so these few
 * connections are pinged every RELAY_SLOT_PING_MS, and one that does not
 * answer is closed, which sends libp2p's relay transport to reserve anew.
 * (A reset, the usual answer once the NAT's mapping is gone, closes the
 * connection by itself.) Stops with the node.
 */
export function watchRelaySlots (node: Pick<Libp2p, 'addEventListener' | 'getConnections' | 'getMultiaddrs'>, opts: RelaySlotWatchOptions = {}): void {
  const timeoutMs = opts.timeoutMs ?? STALE_PROBE_TIMEOUT_MS
  const pinging = new WeakSet<Connection>()
  const timer = setInterval(() => {
    const routers = slotRouters(node)
    for (const connection of node.getConnections().filter(c => routers.has(c.remotePeer.toString()))) {
      if (connection.status !== 'open' || pinging.has(connection)) continue
      pinging.add(connection)
      void answersPing(connection, timeoutMs).then((answered) => {
        pinging.delete(connection)
        if (!answered) {
          log('closing the connection to router %s: it did not answer a ping in %d ms', connection.remotePeer.toString(), timeoutMs)
          connection.abort(new Error(`the router did not answer a ping within ${timeoutMs} ms`))
        }
        opts.onPing?.(connection, !answered)
      })
    }
  }, opts.intervalMs ?? RELAY_SLOT_PING_MS)
  timer.unref()
  node.addEventListener('stop', () => { clearInterval(timer) }, { once: true })
}

/** The peer IDs of the routers our relay addresses go through. */
function slotRouters (node: Pick<Libp2p, 'getMultiaddrs'>): Set<string> {
  return new Set(node.getMultiaddrs().map(routerOf).filter(id => id != null))
}
