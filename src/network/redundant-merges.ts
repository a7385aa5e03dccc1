import type { Peer, PeerData, PeerId, PeerStore, PeerUpdate, TypedEventTarget } from '@libp2p/interface'

/** Peers whose stored record is remembered; past this the oldest is forgotten (its next merge runs in full). */
export const MAX_REMEMBERED_PEERS = 1024

interface PeerStoreEvents { 'peer:update': CustomEvent<PeerUpdate> }

/**
 * Two kinds of libp2p peer-store merge are nearly always no-ops, and each
 * costs a per-peer write lock, a protobuf decode, a sort, an encode and a
 * compare (~150 µs of a daemon's CPU):
 *
 * - libp2p records a stream's protocol on every new stream, both sides
 *   (`merge(peer, { protocols: [p] })`), though the first stream or
 *   identify recorded it long ago: on every connect;
 * - libp2p records the addresses of every peer a DHT answer names
 *   (`merge(peer, { multiaddrs })`, kad-dht being a peer discovery): twenty
 *   per answer, nearly all of them peers the store already holds with those
 *   addresses, on the caller's event loop while its lookup waits.
 *
 * Such a merge is skipped here when the peer's record, as last returned by
 * the store or announced in a 'peer:update' event, already lists every
 * protocol or address in it; any other merge runs as before. Merging an
 * address already held changes nothing in libp2p's store either (its
 * "observed" time is kept). A stale memory (a record expired inside the
 * store without an event) can only leave a protocol or an address
 * unrecorded until the next full merge. Installed on the node's own peer
 * store instance, like the yamux change (yamux-window-updates.ts), so that
 * it reaches the bundled daemon.
 */
export function skipRedundantMerges (peerStore: PeerStore, events: TypedEventTarget<PeerStoreEvents>): void {
  const known = new Map<string, Peer>()
  const remember = (peer: Peer): void => {
    const id = peer.id.toString()
    known.delete(id) // re-inserted last: the Map's order is the eviction order
    if (known.size >= MAX_REMEMBERED_PEERS) {
      const oldest = known.keys().next()
      if (oldest.done !== true) known.delete(oldest.value)
    }
    known.set(id, peer)
  }
  events.addEventListener('peer:update', (evt) => { remember(evt.detail.peer) })

  const merge = peerStore.merge.bind(peerStore)
  const remove = peerStore.delete.bind(peerStore)
  peerStore.merge = async (id: PeerId, data, options) => {
    const peer = known.get(id.toString())
    if (peer != null && alreadyRecorded(peer, data)) return peer
    const merged = await merge(id, data, options)
    remember(merged)
    return merged
  }
  peerStore.delete = async (id: PeerId, options) => {
    known.delete(id.toString())
    await remove(id, options)
  }
}

/** True for a merge of only protocols, or only addresses, that `peer` already lists. */
function alreadyRecorded (peer: Peer, data: PeerData): boolean {
  const keys = Object.keys(data)
  if (keys.length !== 1) return false
  if (keys[0] === 'protocols' && data.protocols != null) return data.protocols.every(p => peer.protocols.includes(p))
  if (keys[0] === 'multiaddrs' && data.multiaddrs != null) return data.multiaddrs.every(ma => peer.addresses.some(a => a.multiaddr.equals(ma)))
  return false
}
