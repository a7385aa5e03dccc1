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
})
