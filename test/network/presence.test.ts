import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { PresencePublisher, PresenceResolver, type NetworkNode } from '../../src/network/index.js'
import { waitFor } from '../helpers/wait.js'
import { createLoopbackNode } from '../helpers/nodes.js'


/** Presence between in-process nodes over real TCP: publish, refresh before expiry, sign off, cache. */
describe('presence publisher and resolver', () => {
  const nodes: NetworkNode[] = []
  let aliceKey: PrivateKey
  let alice: NetworkNode
  let seeker: NetworkNode
  let publisher: PresencePublisher
  let savedSeq = 0

  before(async () => {
    const router = await createLoopbackNode({ router: true })
    await router.start()
    const boot = [router.getMultiaddrs()[0].toString()]
    aliceKey = await generateKeyPair('Ed25519')
    alice = await createLoopbackNode({ bootstrap: boot }, aliceKey)
    seeker = await createLoopbackNode({ bootstrap: boot })
    nodes.push(router, alice, seeker)
    await alice.start()
    await seeker.start()
    publisher = new PresencePublisher({ node: alice, privateKey: aliceKey, sequence: { load: () => savedSeq, save: (s) => { savedSeq = s } } }, { ttlSeconds: 6, allowPrivateAddresses: true })
  })

  after(async () => {
    await Promise.all(nodes.map(async n => await n.stop()))
  })

  test('a record is published, refreshed before it expires, and found with its addresses', async () => {
    publisher.start()
    const first = await waitFor('a first publication', () => publisher.last?.peers !== undefined && publisher.last.peers > 0 ? publisher.last : undefined)
    assert.deepEqual(first.addresses, alice.getMultiaddrs().map(a => a.decapsulateCode(421).toString()))
    assert.ok(savedSeq >= first.seq, 'the sequence number is persisted')
    const refreshed = await waitFor('a refresh at half the TTL', () => publisher.last != null && publisher.last.seq > first.seq ? publisher.last : undefined, 10_000)
    const resolver = new PresenceResolver({ node: seeker })
    // what is found must be a refresh, not the first record
    await waitFor('the seeker finds a refreshed record', async () => {
      const r = await resolver.lookup(alice.peerId, { fresh: true })
      return r != null && r.seq >= refreshed.seq && r.online && r.expires > Date.now() ? r : undefined
    }, 10_000)
  })

  test('lookups are cached until expiry and concurrent ones share one query', async () => {
    const resolver = new PresenceResolver({ node: seeker })
    const [a, b] = await Promise.all([resolver.lookup(alice.peerId), resolver.lookup(alice.peerId)])
    assert.ok(a != null)
    assert.equal(a, b, 'one query, one answer')
    assert.equal(resolver.cached(alice.peerId), a)
    resolver.invalidate(alice.peerId)
    assert.equal(resolver.cached(alice.peerId), undefined)
  })

  test('a new listen address is published at once, not at the next refresh', async () => {
    const carolKey = await generateKeyPair('Ed25519')
    const carol = await createLoopbackNode({ bootstrap: [nodes[0].getMultiaddrs()[0].toString()] }, carolKey)
    nodes.push(carol)
    await carol.start()
    let seq = 0
    // an hour's TTL: the only reason to publish again is the address change
    const carolPublisher = new PresencePublisher({ node: carol, privateKey: carolKey, sequence: { load: () => seq, save: (s) => { seq = s } } }, { ttlSeconds: 3600, allowPrivateAddresses: true })
    carolPublisher.start()
    try {
      const first = await waitFor('a first publication', () => carolPublisher.last?.peers !== undefined && carolPublisher.last.peers > 0 ? carolPublisher.last : undefined)
      const transportManager = (carol as unknown as { components: { transportManager: { listen: (addrs: Multiaddr[]) => Promise<void> } } }).components.transportManager
      await transportManager.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
      const added = carol.getMultiaddrs().map(a => a.decapsulateCode(421).toString()).find(a => !first.addresses.includes(a))
      assert.ok(added != null, 'carol listens on a second address')
      const resolver = new PresenceResolver({ node: seeker })
      const found = await waitFor('the seeker finds the new address', async () => {
        const r = await resolver.lookup(carol.peerId, { fresh: true })
        return r != null && r.addresses.includes(added) ? r : undefined
      }, 10_000)
      assert.ok(found.seq > first.seq)
    } finally {
      await carolPublisher.stop()
    }
  })

  test('a record published into a small DHT is published again once the DHT has doubled', async () => {
    const router = await createLoopbackNode({ router: true })
    await router.start()
    const boot = [router.getMultiaddrs()[0].toString()]
    const danaKey = await generateKeyPair('Ed25519')
    const dana = await createLoopbackNode({ bootstrap: boot }, danaKey)
    nodes.push(router, dana)
    await dana.start()
    let seq = 0
    // an hour's TTL and no address change: growth is the only reason to publish again
    const danaPublisher = new PresencePublisher({ node: dana, privateKey: danaKey, sequence: { load: () => seq, save: (s) => { seq = s } } }, { ttlSeconds: 3600, allowPrivateAddresses: true })
    danaPublisher.start()
    try {
      const first = await waitFor('a first publication', () => danaPublisher.last?.peers !== undefined && danaPublisher.last.peers > 0 ? danaPublisher.last : undefined)
      const joiners = await Promise.all(Array.from({ length: 4 }, async () => await createLoopbackNode({ bootstrap: boot })))
      nodes.push(...joiners)
      await Promise.all(joiners.map(async n => { await n.start() }))
      const again = await waitFor('a publication after the DHT grew', () => danaPublisher.last != null && danaPublisher.last.seq > first.seq ? danaPublisher.last : undefined, 20_000)
      assert.deepEqual(again.addresses, first.addresses, 'the addresses did not change')
      assert.ok(again.peers > first.peers, `stored on more peers than the first time (${again.peers} > ${first.peers})`)
    } finally {
      await danaPublisher.stop()
    }
  })

  test('a clean stop publishes an offline record with a higher sequence', async () => {
    const before = publisher.last?.seq ?? 0
    await publisher.stop()
    assert.ok(savedSeq > before)
    const resolver = new PresenceResolver({ node: seeker })
    const r = await resolver.lookup(alice.peerId, { fresh: true })
    assert.ok(r != null)
    assert.equal(r.online, false)
    assert.deepEqual(r.addresses, [])
    assert.equal(r.seq, savedSeq)
  })
})
