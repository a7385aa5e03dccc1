import type { Connection } from '@libp2p/interface'
import type { NetworkNode } from '../network/index.js'
import { componentLogger } from '../util/log.js'
import { CONNECT_PROTOCOL } from './connect-protocol.js'

const log = componentLogger('session:relayed')
/** How often a relayed connection waiting to close looks for its last session. */
const DRAIN_POLL_MS = 1000

/**
 * Sessions that started through a router outlive the hole punch. Once DCUtR
 * has a direct connection it closes the relayed one at once, which would
 * end every tunnel on it (an ssh session, a file transfer). So a relayed
 * connection's close is deferred while cspace sessions run on it: new
 * sessions take the direct connection (`connectionTo` prefers it), and the
 * relayed one closes when its last session ends. Returns a function that
 * stops watching.
 */
export function keepRelayedSessionsOpen (node: NetworkNode): () => void {
  const onOpen = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail
    if (conn.limits == null) return
    const close = conn.close.bind(conn)
    immediateClose.set(conn, close)
    conn.close = async (options) => {
      if (!hasSessions(conn)) { await close(options); return }
      log('relayed connection to %p kept until its sessions end', conn.remotePeer)
      const timer = setInterval(() => {
        if (conn.status === 'open' && hasSessions(conn)) return
        clearInterval(timer)
        if (conn.status === 'open') close().catch(() => {})
      }, DRAIN_POLL_MS)
      timer.unref()
    }
  }
  node.addEventListener('connection:open', onOpen)
  return () => node.removeEventListener('connection:open', onOpen)
}

/** Relayed connections' own close, for a hang-up that must not wait for the sessions. */
const immediateClose = new WeakMap<Connection, Connection['close']>()

/**
 * Closes the connection now, sessions or not (`cspace hangup`): the deferral
 * above is for DCUtR's close after a hole punch, not for the user's.
 */
export async function closeNow (conn: Connection): Promise<void> {
  const close = immediateClose.get(conn)
  if (close != null) await close()
  else await conn.close()
}

function hasSessions (conn: Connection): boolean {
  return conn.streams.some(s => s.protocol === CONNECT_PROTOCOL && s.status === 'open')
}
