import type { Connection, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { NetworkNode, PresenceRecord, PresenceResolver } from '../network/index.js'
import { componentLogger } from '../util/log.js'
import { UserOffline, UserUnreachable } from './session-errors.js'

const log = componentLogger('session:dial')
/** How long a user whose connection was lost has to answer a dial where the DHT has no fresher word of them. */
export const DIAL_LOST_MS = 5000

/** Whom to reach: their key, and the name to put in messages. */
export interface DialTarget { peerId: PeerId, label: string }

/** What the daemon remembers of peers whose connection was lost (`daemon/lost-contacts.ts`). */
export interface LostPeers {
  /** The record is older than the connection to them that was lost: it says nothing of now. */
  predates: (peerId: string, record: PresenceRecord) => boolean
  /** The addresses they last said they listen on, with /p2p/ID (empty if they never said). */
  lastAddresses: (peerId: string) => Multiaddr[]
  /** The connections to them about to close are closed on purpose (a hang-up, ours or theirs): not lost. */
  hangingUp: (peerId: PeerId) => void
}

/**
 * An open connection to exactly this key: an existing one (a direct one
 * first: a relayed one costs the router and has its caps), or one found
 * through the user's presence record in the DHT.
 *
 * A first contact does not wait for the presence lookup to finish. Its
 * first valid record is dialled at once, while the lookup goes on to its
 * quorum; and any connection to the user that opens meanwhile is taken —
 * the lookup's own DHT query often dials the user (they hold their own
 * record). Either is authenticated to the key by TLS. Only if neither gives
 * a connection before the lookup ends are the newest record's addresses
 * dialled, and after a failure the DHT asked again, in case the record was
 * stale (a restart on a new port). A sign-off older than a connection to
 * the user that was lost (`LostPeers`) is not believed: they are dialled
 * where they last listened.
 */
export async function connectionTo (node: NetworkNode, resolver: PresenceResolver, target: DialTarget, signal: AbortSignal, lost?: LostPeers): Promise<Connection> {
  const open = node.getConnections(target.peerId).filter(c => c.status === 'open')
  const existing = open.find(c => c.limits == null) ?? open[0]
  if (existing != null) return existing
  const started = performance.now()
  const opening = connectionOpening(node, target.peerId)
  let record: PresenceRecord | undefined
  try {
    const onFirstRecord = (r: PresenceRecord): void => {
      const where = dialTargetFor(target.peerId, r) // an online record's addresses only
      if (where == null) return
      log('dialling %s at its first record, %d ms in', target.label, Math.round(performance.now() - started))
      dialUser(node, target, where, signal).catch((err: Error) => { log('early dial of %s failed: %e', target.label, err) })
    }
    const first = await Promise.race([
      resolver.lookup(target.peerId, { signal, onFirstRecord }).then(r => ({ record: r })),
      opening.connection.then(connection => ({ connection }))
    ])
    if ('connection' in first) {
      // The lookup goes on to its quorum and caches the record. Not stopped:
      // stopping it aborts the query's dials, and one still finishing on the
      // connection just taken closed it (benchmark: "stream closed while
      // reading" on 8 of 12 first connects).
      log('connected to %s in %d ms, during the presence lookup', target.label, Math.round(performance.now() - started))
      return first.connection
    }
    record = first.record
  } finally {
    opening.stop()
  }
  const looked = performance.now()
  for (let attempt = 0; ; attempt++) {
    // alone, no record can be found: saying "offline" would blame the contact
    if (record == null && node.getConnections().length === 0) throw new UserUnreachable(target.label, 'this daemon is not connected to the network (no peers); check its bootstrap addresses (`cspace status`)')
    if (record == null) throw new UserOffline(target.label, 'no presence record in the DHT')
    const where = dialTargetFor(target.peerId, record, lost)
    if (where == null && !record.online) throw new UserOffline(target.label, `signed off at ${new Date(record.seq).toISOString()}`)
    if (where == null) {
      // online behind a NAT, before a router has given them a relay address: they may have published one since
      if (attempt === 0) {
        const newer = await resolver.lookup(target.peerId, { signal, fresh: true })
        if (signal.aborted) throw new UserUnreachable(target.label, 'timed out')
        if (newer != null && newer.seq > record.seq) {
          record = newer
          continue
        }
      }
      throw new UserUnreachable(target.label, 'they are online but have published no address yet (behind a NAT, waiting for a router); try again in a moment')
    }
    // only a sign-off from before a connection to them that was lost gets this far
    const stale = !record.online
    try {
      // where they last listened is a guess; with no address known libp2p asks the DHT where they are, for as long as it is let
      const conn = await dialUser(node, target, where, stale ? AbortSignal.any([signal, AbortSignal.timeout(DIAL_LOST_MS)]) : signal)
      log('connected to %s in %d ms: presence %d ms, dial %d ms', target.label, Math.round(performance.now() - started), Math.round(looked - started), Math.round(performance.now() - looked))
      return conn
    } catch (err) {
      log('dial %s failed: %e', target.label, err)
      if (signal.aborted) throw new UserUnreachable(target.label, 'timed out')
      const previousSeq = record.seq
      if (attempt === 0) {
        resolver.invalidate(target.peerId)
        record = await resolver.lookup(target.peerId, { signal, fresh: true })
        if (record != null && record.seq !== previousSeq) continue
      }
      if (stale) throw new UserUnreachable(target.label, `the connection to them was lost, and they do not answer where they last listened (${(err as Error).message.slice(0, 200)}); their presence record is older than that connection`)
      // a dial proves the key too, but what usually fails is the dial itself: a daemon killed without signing off
      throw new UserUnreachable(target.label, `their presence says online, but none of its addresses could be dialled (${(err as Error).message.slice(0, 200)}); they may have stopped without signing off`)
    }
  }
}

/**
 * Where to dial a user, from their newest record: its addresses if it says
 * online. A sign-off older than a connection to them that was lost
 * (`LostPeers`) says nothing of now (they came back after it, and their new
 * record has not spread): where they last said they listen, or their peer
 * ID for the peer store if they never said. Undefined: nowhere to dial (a
 * sign-off that is news, or online with no address yet).
 */
export function dialTargetFor (peerId: PeerId, record: PresenceRecord, lost?: LostPeers): PeerId | Multiaddr[] | undefined {
  if (record.online) return record.addresses.length > 0 ? record.addresses.map(a => multiaddr(`${a}/p2p/${peerId.toString()}`)) : undefined
  if (lost?.predates(peerId.toString(), record) !== true) return undefined
  const known = lost.lastAddresses(peerId.toString())
  return known.length > 0 ? known : peerId
}

async function dialUser (node: NetworkNode, target: DialTarget, where: PeerId | Multiaddr[], signal: AbortSignal): Promise<Connection> {
  const conn = await node.dial(where, { signal })
  // libp2p's TLS already refused any other key; checked again because
  // everything downstream trusts this identity
  if (!conn.remotePeer.equals(target.peerId)) {
    await conn.close()
    throw new Error('the remote proved a different key')
  }
  return conn
}

/** The first connection to `peerId` that opens from now on, whoever opened it; pending until stopped if none does. */
function connectionOpening (node: NetworkNode, peerId: PeerId): { connection: Promise<Connection>, stop: () => void } {
  let onOpen: (e: CustomEvent<Connection>) => void = () => {}
  const connection = new Promise<Connection>((resolve) => {
    onOpen = (e) => {
      if (e.detail.remotePeer.equals(peerId) && e.detail.status === 'open') resolve(e.detail)
    }
    node.addEventListener('connection:open', onOpen)
  })
  return { connection, stop: () => { node.removeEventListener('connection:open', onOpen) } }
}
