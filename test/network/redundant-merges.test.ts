import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Peer, PeerData, PeerId, PeerStore } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { skipRedundantMerges } from '../../src/network/redundant-merges.js'

/** A peer store that records what reaches it and announces changes as libp2p's does. */
function fakePeerStore (events: EventTarget): { store: PeerStore, merges: PeerData[], records: Map<string, Peer> } {
  const merges: PeerData[] = []
  const records = new Map<string, Peer>()
  const store = {
    async merge (id: PeerId, data: PeerData): Promise<Peer> {
      merges.push(data)
      const old = records.get(id.toString())
      const protocols = [...new Set([...(old?.protocols ?? []), ...(data.protocols ?? [])])].sort()
      const addrs = [...new Set([...(old?.addresses ?? []).map(a => a.multiaddr.toString()), ...(data.multiaddrs ?? []).map(String)])].sort()
      const peer = { id, addresses: addrs.map(a => ({ multiaddr: multiaddr(a), isCertified: false })), protocols, metadata: new Map(), tags: new Map() } as unknown as Peer
      records.set(id.toString(), peer)
      if (old == null || old.protocols.join() !== protocols.join() || old.addresses.length !== addrs.length) events.dispatchEvent(new CustomEvent('peer:update', { detail: { peer } }))
      return peer
    },
    async delete (id: PeerId): Promise<void> { records.delete(id.toString()) }
  } as unknown as PeerStore
  return { store, merges, records }
}

/** A fake store with the guard installed, and a peer to merge into it. */
async function guardedStore (): Promise<{ events: EventTarget, store: PeerStore, merges: PeerData[], peer: PeerId }> {
  const events = new EventTarget()
  const { store, merges } = fakePeerStore(events)
  skipRedundantMerges(store, events as never)
  return { events, store, merges, peer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) }
}

test('a protocol merge the record already shows is skipped; others reach the store', async () => {
  const { store, merges, peer } = await guardedStore()

  await store.merge(peer, { protocols: ['/cspace/connect/1.0.0'] })
  assert.equal(merges.length, 1, 'the first merge of a protocol reaches the store')
  const again = await store.merge(peer, { protocols: ['/cspace/connect/1.0.0'] })
  assert.equal(merges.length, 1, 'a repeat is answered from the remembered record')
  assert.deepEqual(again.protocols, ['/cspace/connect/1.0.0'])

  await store.merge(peer, { protocols: ['/cspace/connect/1.0.0', '/ipfs/ping/1.0.0'] })
  assert.equal(merges.length, 2, 'a protocol not yet recorded reaches the store')
  await store.merge(peer, { protocols: ['/ipfs/ping/1.0.0'], tags: { x: { value: 1 } } })
  assert.equal(merges.length, 3, 'a merge of anything but protocols always reaches the store')
})

test('an address merge the record already shows is skipped (a DHT answer naming known peers); a new address reaches the store', async () => {
  const { store, merges, peer } = await guardedStore()
  const a = multiaddr('/ip4/10.0.0.1/tcp/4001')
  const b = multiaddr('/ip4/10.0.0.2/tcp/4001')

  await store.merge(peer, { multiaddrs: [a] })
  assert.equal(merges.length, 1)
  const again = await store.merge(peer, { multiaddrs: [multiaddr('/ip4/10.0.0.1/tcp/4001')] })
  assert.equal(merges.length, 1, 'an address already held is answered from the remembered record')
  assert.equal(again.addresses[0].multiaddr.toString(), a.toString())
  await store.merge(peer, { multiaddrs: [a, b] })
  assert.equal(merges.length, 2, 'a new address reaches the store')
  await store.merge(peer, { multiaddrs: [b], metadata: { x: new Uint8Array(1) } })
  assert.equal(merges.length, 3, 'addresses with anything else always reach the store')
  await store.merge(peer, { multiaddrs: [b] })
  assert.equal(merges.length, 3)
})

test('a record replaced elsewhere (identify) or deleted is not trusted any more', async () => {
  const { events, store, merges, peer } = await guardedStore()
  await store.merge(peer, { protocols: ['/a'] })
  // identify replaced the protocol list: the event carries the new record
  events.dispatchEvent(new CustomEvent('peer:update', { detail: { peer: { id: peer, protocols: ['/b'] } as unknown as Peer } }))
  await store.merge(peer, { protocols: ['/a'] })
  assert.equal(merges.length, 2, 'after an update without /a, merging /a runs')
  await store.delete(peer)
  await store.merge(peer, { protocols: ['/a'] })
  assert.equal(merges.length, 3, 'after a delete, merging runs')
})
