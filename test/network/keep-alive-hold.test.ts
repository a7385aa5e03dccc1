import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KeepAliveHold } from '../../src/network/index.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

describe('KeepAliveHold', () => {
  test('lifts only keep-alive tags, keeps them over a second hang-up, and puts them back when the hold ends', async () => {
    const node = await createLoopbackNode()
    try {
      const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      await node.peerStore.merge(peer, { tags: { 'keep-alive-kad-dht': { value: 1 }, 'keep-alive-other': { value: 7 }, 'kad-close': { value: 50 } } })
      const tags = async (): Promise<Record<string, number>> =>
        Object.fromEntries([...(await node.peerStore.get(peer)).tags].map(([name, t]) => [name, t.value]))
      const hold = new KeepAliveHold(node, 300)
      await hold.lift(peer)
      assert.deepEqual(await tags(), { 'kad-close': 50 }, 'only the keep-alive tags go; the DHT still ranks the peer')
      await hold.lift(peer) // hung up on again: nothing left to lift, the first hold's tags still to come back
      await waitFor('the tags back', async () => Object.keys(await tags()).length === 3, 5000, 20)
      assert.deepEqual(await tags(), { 'keep-alive-kad-dht': 1, 'keep-alive-other': 7, 'kad-close': 50 })

      // a peer the store has never seen: nothing to lift, nothing to fail
      const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      await hold.lift(stranger)
      assert.equal(await node.peerStore.has(stranger), false, 'not added to the store by a hang-up')
      hold.clear()
    } finally {
      await node.stop()
    }
  })

  test("a tag that expires keeps its expiry, one expired during the hold stays off, and an evicted peer is not brought back", async () => {
    const node = await createLoopbackNode()
    try {
      const relay = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const evicted = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      await node.peerStore.merge(relay, { tags: { 'keep-alive-circuit-relay': { value: 1, ttl: 60_000 }, 'keep-alive-short': { value: 1, ttl: 100 } } })
      await node.peerStore.merge(evicted, { tags: { 'keep-alive-kad-dht': { value: 1 } } })
      const expiry = async (): Promise<bigint | undefined> => ((await node.peerStore.get(relay)).tags.get('keep-alive-circuit-relay') as { expiry?: bigint } | undefined)?.expiry
      const before = await expiry()
      assert.ok(before != null)
      const hold = new KeepAliveHold(node, 300)
      await hold.lift(evicted) // first: its restore is done by the time the relay's is seen
      await hold.lift(relay)
      await node.peerStore.delete(evicted) // the store's bound, during the hold
      await waitFor('the relay tag back', async () => await expiry() != null, 5000, 20)
      const after = await expiry()
      assert.ok(after != null && after <= before + 50n && after >= before - 50n, `expiry kept: ${before} → ${after}`)
      assert.equal((await node.peerStore.get(relay)).tags.has('keep-alive-short'), false, 'expired during the hold')
      assert.equal(await node.peerStore.has(evicted), false, 'not re-created as tags alone')
    } finally {
      await node.stop()
    }
  })
})
