import type { Libp2p, PeerId } from '@libp2p/interface'
import { componentLogger } from '../util/log.js'
import type { DhtDatastore } from './dht-datastore.js'

const log = componentLogger('peer-store')

/**
 * Peer records kept at most, by default: ~0.5 KiB each, so about 25 MiB. A
 * router of a large network stores the peers that connect to it and those
 * its DHT answers name, well under this.
 */
export const MAX_STORED_PEERS = 50_000

/** The count may pass the limit by this share before a sweep starts, so that each sweep clears many at once. */
const SLACK = 0.1

/**
 * libp2p's peer store keeps a record of every peer that ever connected, and
 * forgets one only when reading it finds it expired (six hours unseen, no
 * recent address), which nothing does for a peer that never comes back. A
 * stranger making a fresh key per connection thus grew a router by a record
 * per connection, without end.
 *
 * Past `maxPeers` (and a slack of 10%), a sweep lists every record, which
 * lets the store drop the expired ones, then deletes the least recently
 * stored of those whose peer is neither connected nor tagged, down to
 * `maxPeers`. Tags mark the peers libp2p and kad-dht rely on: the routing
 * table's (`kad-peer`, `kad-close`) and keep-alive peers.
 */
export function boundPeerStore (node: Pick<Libp2p, 'peerStore' | 'getConnections'>, datastore: DhtDatastore, maxPeers = MAX_STORED_PEERS): void {
  const slack = Math.max(1, Math.floor(maxPeers * SLACK))
  // after a sweep that could not get under the limit (every peer connected or tagged), wait for another slack's worth
  let sweepPast = maxPeers + slack
  let sweeping = false
  datastore.onNewPeer = () => {
    if (sweeping || datastore.peerCount <= sweepPast) return
    sweeping = true
    sweep(node, maxPeers)
      .then((n) => { log('dropped %d peer records past the limit of %d', n, maxPeers) })
      .catch((err: Error) => { log('peer store sweep stopped: %s', err.message) })
      .finally(() => {
        sweeping = false
        sweepPast = Math.max(maxPeers, datastore.peerCount) + slack
      })
  }
}

/** Deletes the least recently stored peers that may go, until `maxPeers` are left; returns how many it deleted. */
async function sweep (node: Pick<Libp2p, 'peerStore' | 'getConnections'>, maxPeers: number): Promise<number> {
  // all() lists least recently stored first (DhtDatastore), skipping and deleting expired records
  const peers = await node.peerStore.all()
  const mayGo: PeerId[] = peers.filter(p => p.tags.size === 0 && node.getConnections(p.id).length === 0).map(p => p.id)
  const drop = mayGo.slice(0, Math.max(0, peers.length - maxPeers))
  for (const id of drop) await node.peerStore.delete(id)
  return drop.length
}
