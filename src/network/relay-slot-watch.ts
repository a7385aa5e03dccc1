import type { Connection, Libp2p } from '@libp2p/interface'
import { closeIfSilent } from './connection-ping.js'
import { routerOf } from './addresses.js'

/** How often a user reached through routers checks his connections to them. */
const RELAY_SLOT_PING_MS = 15_000

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
  const timer = setInterval(() => {
    const routers = slotRouters(node)
    for (const connection of node.getConnections().filter(c => routers.has(c.remotePeer.toString()))) {
      if (connection.status !== 'open') continue
      void closeIfSilent(connection, 'a connection to a router we hold a relay slot on', opts.timeoutMs).then((closed) => { opts.onPing?.(connection, closed) })
    }
  }, opts.intervalMs ?? RELAY_SLOT_PING_MS)
  timer.unref()
  node.addEventListener('stop', () => { clearInterval(timer) }, { once: true })
}

/** The peer IDs of the routers our relay addresses go through. */
function slotRouters (node: Pick<Libp2p, 'getMultiaddrs'>): Set<string> {
  return new Set(node.getMultiaddrs().map(routerOf).filter(id => id != null))
}
