import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Peer, PeerData, PeerId, PeerStore } from '@libp2p/interface'
import { skipRedundantProtocolMerges } from '../../src/network/protocol-merges.js'

/** A peer store that records what reaches it and announces changes as libp2p's does. */
function fakePeerStore (events: EventTarget): { store: PeerStore, merges: PeerData[], records: Map<string, Peer> } {
  const merges: PeerData[] = []
  const records = new Map<string, Peer>()
  const store = {
    async merge (id: PeerId, data: PeerData): Promise<Peer> {
      merges.push(data)
      const old = records.get(id.toString())
      const protocols = [...new Set([...(old?.protocols ?? []), ...(data.protocols ?? [])])].sort()
      const peer = { id, addresses: [], protocols, metadata: new Map(), tags: new Map() } as unknown as Peer
      records.set(id.toString(), peer)
      if (old == null || old.protocols.join() !== protocols.join()) events.dispatchEvent(new CustomEvent('peer:update', { detail: { peer } }))
      return peer
    },
    async delete (id: PeerId): Promise<void> { records.delete(id.toString()) }
  } as unknown as PeerStore
  return { store, merges, records }
}

test('a protocol merge the record already shows is skipped; others reach the store', async () => {
  const events = new EventTarget()
  const { store, merges } = fakePeerStore(events)
  skipRedundantProtocolMerges(store, events as never)
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

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

test('a record replaced elsewhere (identify) or deleted is not trusted any more', async () => {
  const events = new EventTarget()
  const { store, merges } = fakePeerStore(events)
  skipRedundantProtocolMerges(store, events as never)
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await store.merge(peer, { protocols: ['/a'] })
  // identify replaced the protocol list: the event carries the new record
  events.dispatchEvent(new CustomEvent('peer:update', { detail: { peer: { id: peer, protocols: ['/b'] } as unknown as Peer } }))
  await store.merge(peer, { protocols: ['/a'] })
  assert.equal(merges.length, 2, 'after an update without /a, merging /a runs')
  await store.delete(peer)
  await store.merge(peer, { protocols: ['/a'] })
  assert.equal(merges.length, 3, 'after a delete, merging runs')
})
