import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { createNetworkNode, DhtDatastore, type NetworkNode } from '../../src/network/index.js'
import { createLoopbackNode, loopbackInit } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

/**
 * A stranger connecting with a fresh key each time left a peer record behind
 * per connection, for good. Real nodes, real connections: a node limited to
 * 10 peer records, met by 1 peer that stays connected, 1 it tags and 24 that
 * come and go, keeps those two and the newest of the rest.
 */
describe('the peer store of a node met by many short-lived peers', () => {
  const nodes: NetworkNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  async function visit (server: NetworkNode, stay = false, protocols = 0): Promise<PeerId> {
    const client = await createLoopbackNode({ listen: [] })
    nodes.push(client)
    // what a peer announces (identify) goes into its record
    for (let i = 0; i < protocols; i++) await client.handle(`/announced/${'x'.repeat(100)}/${i}`, () => {})
    await client.dial(server.getMultiaddrs()[0])
    // identify is what stores the visitor's protocols; wait for it, as a real visit would
    await waitFor('the server knows the visitor\'s protocols', async () => {
      const peer = await server.peerStore.get(client.peerId).catch(() => undefined)
      return peer != null && peer.protocols.length > 0 ? true : undefined
    })
    if (!stay) await client.stop()
    return client.peerId
  }

  test('keeps at most its limit plus a slack: connected and tagged peers stay, the least recently stored of the others go', async () => {
    const store = new DhtDatastore()
    const server = await createNetworkNode({ privateKey: await generateKeyPair('Ed25519'), datastore: store }, loopbackInit({ maxStoredPeers: 10 }))
    nodes.push(server)
    const connected = await visit(server, true)
    const tagged = await visit(server)
    await server.peerStore.merge(tagged, { tags: { 'test-keep': { value: 10 } } })
    const visitors: PeerId[] = []
    for (let i = 0; i < 24; i++) visitors.push(await visit(server))

    const known = async (id: PeerId): Promise<boolean> => await server.peerStore.has(id)
    await waitFor('a sweep back to the limit', async () => store.peerCount <= 12 ? true : undefined) // 10, its slack of 1, and the node's own record
    assert.ok((await server.peerStore.all()).length <= 11, 'at most the limit and its slack')
    assert.ok(await known(connected), 'the connected peer is kept')
    assert.ok(await known(tagged), 'the tagged peer is kept')
    assert.ok(await known(visitors[visitors.length - 1]), 'the latest visitor is kept')
    assert.equal(await known(visitors[0]), false, 'the first visitor is gone')
  })

  test('keeps at most its limit of bytes too: peers announcing much cost records of their size', async () => {
    const store = new DhtDatastore()
    const maxBytes = 12 * 1024
    const server = await createNetworkNode({ privateKey: await generateKeyPair('Ed25519'), datastore: store }, loopbackInit({ maxStoredPeerBytes: maxBytes }))
    nodes.push(server)
    const visitors: PeerId[] = []
    // each record ~3 KiB: 20 of them would be 60 KiB
    for (let i = 0; i < 20; i++) visitors.push(await visit(server, false, 25))
    const record = store.peerBytes / store.peerCount
    assert.ok(record > 2500, `a visitor's record is ${record} bytes`)
    // a sweep starts past the limit and its slack of 10%; the last visit may have come after it
    await waitFor('a sweep back to the limit', async () => store.peerBytes <= maxBytes * 1.1 + 4096 ? true : undefined)
    assert.ok(await server.peerStore.has(visitors[visitors.length - 1]), 'the latest visitor is kept')
    assert.equal(await server.peerStore.has(visitors[0]), false, 'the first visitor is gone')
  })
})
