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

/**
 * Bytes of peer records kept at most, by default. A record is ~0.5 KiB, but
 * a peer names its own protocols and addresses (identify), up to 4 KiB a
 * message (node.ts): counted alone, 50,000 records of strangers each
 * announcing the most they may would be 200 MiB and more.
 */
export const MAX_STORED_PEER_BYTES = 32 << 20

/** The count may pass the limit by this share before a sweep starts, so that each sweep clears many at once. */
const SLACK = 0.1

/**
 * libp2p's peer store keeps a record of every peer that ever connected, and
 * forgets one only when reading it finds it expired (six hours unseen, no
 * recent address), which nothing does for a peer that never comes back. A
 * stranger making a fresh key per connection thus grew a router by a record
 * per connection, without end.
 *
 * Past `maxPeers` records or `maxBytes` of them (and a slack of 10%), a
 * sweep lists every record, which lets the store drop the expired ones, then
 * deletes the least recently stored of those whose peer is neither
 * connected nor tagged, until both are within their limits. Tags mark the
 * peers libp2p and kad-dht rely on: the routing table's (`kad-peer`,
 * `kad-close`) and keep-alive peers.
 */
export function boundPeerStore (node: Pick<Libp2p, 'peerStore' | 'getConnections'>, datastore: DhtDatastore, limits: { maxPeers?: number, maxBytes?: number } = {}): void {
  const maxPeers = limits.maxPeers ?? MAX_STORED_PEERS
  const maxBytes = limits.maxBytes ?? MAX_STORED_PEER_BYTES
  const within = (): boolean => datastore.peerCount <= maxPeers && datastore.peerBytes <= maxBytes
  // after a sweep that could not get under a limit (every peer connected or tagged), wait for another slack's worth
  const slackPeers = Math.max(1, Math.floor(maxPeers * SLACK))
  const slackBytes = Math.floor(maxBytes * SLACK)
  let sweepPast = { peers: maxPeers + slackPeers, bytes: maxBytes + slackBytes }
  let sweeping = false
  datastore.onPeerStored = () => {
    if (sweeping || (datastore.peerCount <= sweepPast.peers && datastore.peerBytes <= sweepPast.bytes)) return
    sweeping = true
    sweep(node, within)
      .then((n) => { log('dropped %d peer records past the limits of %d records, %d bytes', n, maxPeers, maxBytes) })
      .catch((err: Error) => { log('peer store sweep stopped: %s', err.message) })
      .finally(() => {
        sweeping = false
        sweepPast = { peers: Math.max(maxPeers, datastore.peerCount) + slackPeers, bytes: Math.max(maxBytes, datastore.peerBytes) + slackBytes }
      })
  }
}

/** Deletes the least recently stored peers that may go until `within()`; returns how many it deleted. */
async function sweep (node: Pick<Libp2p, 'peerStore' | 'getConnections'>, within: () => boolean): Promise<number> {
  // all() lists least recently stored first (DhtDatastore), skipping and deleting expired records
  const peers = await node.peerStore.all()
  const mayGo: PeerId[] = peers.filter(p => p.tags.size === 0 && node.getConnections(p.id).length === 0).map(p => p.id)
  let dropped = 0
  for (const id of mayGo) {
    if (within()) break
    await node.peerStore.delete(id)
    dropped++
  }
  return dropped
}
