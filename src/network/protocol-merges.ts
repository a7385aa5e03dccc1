import type { Peer, PeerId, PeerStore, PeerUpdate, TypedEventTarget } from '@libp2p/interface'

/** Peers whose stored record is remembered; past this the oldest is forgotten (its next merge runs in full). */
export const MAX_REMEMBERED_PEERS = 1024

interface PeerStoreEvents { 'peer:update': CustomEvent<PeerUpdate> }

/**
 * libp2p records a stream's protocol in the peer store on every new stream,
 * both sides (`peerStore.merge(peer, { protocols: [p] })`): a per-peer write
 * lock, a protobuf decode, a sort, an encode and a compare, ~150 µs of a
 * daemon's CPU per connect, and nearly always a no-op, since the protocol
 * was recorded by the first stream or by identify. Such a merge is skipped
 * here when the peer's record, as last returned by the store or announced in
 * a 'peer:update' event, already lists every protocol in it; any other merge
 * runs as before. A stale memory (a record expired inside the store without
 * an event) can only leave a protocol unrecorded, which nothing in cspace
 * reads. Installed on the node's own peer store instance, like the yamux
 * change (yamux-window-updates.ts), so that it reaches the bundled daemon.
 */
export function skipRedundantProtocolMerges (peerStore: PeerStore, events: TypedEventTarget<PeerStoreEvents>): void {
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
    const keys = Object.keys(data)
    if (keys.length === 1 && keys[0] === 'protocols' && data.protocols != null) {
      const peer = known.get(id.toString())
      const protocols = data.protocols
      if (peer != null && protocols.every(p => peer.protocols.includes(p))) return peer
    }
    const peer = await merge(id, data, options)
    remember(peer)
    return peer
  }
  peerStore.delete = async (id: PeerId, options) => {
    known.delete(id.toString())
    await remove(id, options)
  }
}
