import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { KEEP_ALIVE, type PeerId } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import type { NetworkNode } from '../../src/network/index.js'
import { HANG_UP_PROTOCOL, type LostPeers } from '../../src/session/index.js'
import { echoOnce, startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { waitFor } from '../helpers/wait.js'

/** The tag kad-dht gives its closest peers, which libp2p's reconnect queue re-dials at once when they disconnect. */
const KAD_KEEP_ALIVE = `${KEEP_ALIVE}-kad-dht`

/** What a daemon's presence tracker is told: the peers hung up on. */
function recordingLostPeers (): LostPeers & { hungUp: string[] } {
  const hungUp: string[] = []
  return { predates: () => false, lastAddresses: () => [], hangingUp: (id: PeerId) => { hungUp.push(id.toString()) }, hungUp }
}

interface Decision { peer: string, queued: boolean }

/**
 * What `node`'s reconnect queue (libp2p's, internal) decides at each
 * disconnect: whether it queued a re-dial of the peer. Watched there because
 * a connection that comes back proves nothing either way: kad-dht's own
 * queries may connect the two too.
 */
function watchReconnectQueue (node: NetworkNode): Decision[] {
  type Queue = { maybeReconnect: (peer: PeerId) => Promise<void>, queue: { has: (peer: PeerId) => boolean } }
  const queue = (node as unknown as { components: { connectionManager: { reconnectQueue: Queue } } }).components.connectionManager.reconnectQueue
  const decisions: Decision[] = []
  const maybeReconnect = queue.maybeReconnect.bind(queue)
  queue.maybeReconnect = async (peer) => {
    await maybeReconnect(peer)
    decisions.push({ peer: peer.toString(), queued: queue.queue.has(peer) })
  }
  return decisions
}

async function keepAliveTagged (node: NetworkNode, peer: PeerId): Promise<boolean> {
  const tags = await node.peerStore.get(peer).then(p => p.tags, () => new Map())
  return tags.has(KAD_KEEP_ALIVE)
}

/** Alice and bob connected, a session done, each a keep-alive peer of the other, as kad-dht tags its closest. */
async function connectedPair (): Promise<EchoPair & { aliceLost: ReturnType<typeof recordingLostPeers>, bobLost: ReturnType<typeof recordingLostPeers>, aliceQueue: Decision[], bobQueue: Decision[] }> {
  const aliceLost = recordingLostPeers()
  const bobLost = recordingLostPeers()
  const pair = await startEchoPair({ aliceLost, bobLost })
  const aliceQueue = watchReconnectQueue(pair.alice)
  const bobQueue = watchReconnectQueue(pair.bob)
  await pair.alice.dial(pair.bob.getMultiaddrs())
  assert.equal(await echoOnce(pair, 'hello'), 'hello')
  await pair.alice.peerStore.merge(pair.bob.peerId, { tags: { [KAD_KEEP_ALIVE]: { value: 1 } } })
  await pair.bob.peerStore.merge(pair.alice.peerId, { tags: { [KAD_KEEP_ALIVE]: { value: 1 } } })
  return { ...pair, aliceLost, bobLost, aliceQueue, bobQueue }
}

describe('hanging up', () => {
  test('the peer is told first, and neither reconnect queue re-dials; the tags are back when the hold ends', async () => {
    const pair = await connectedPair()
    const bobId = pair.bob.peerId.toString()
    const aliceId = pair.alice.peerId.toString()
    try {
      // the control: a connection between keep-alive peers that just closes is re-dialled at once
      await pair.alice.getConnections(pair.bob.peerId)[0].close()
      const control = await waitFor("alice's queue deciding", () => pair.aliceQueue.find(d => d.peer === bobId), 10_000, 10)
      assert.equal(control.queued, true, 'a plain close of a keep-alive peer is re-dialled (the watch sees it)')
      await waitFor('libp2p re-dialling a keep-alive peer', () => pair.alice.getConnections(pair.bob.peerId).some(c => c.status === 'open'), 10_000, 20)
      await waitFor('both queues done with the control', () => pair.bobQueue.some(d => d.peer === aliceId), 10_000, 10)
      pair.aliceQueue.length = 0
      pair.bobQueue.length = 0

      const closed = await pair.aliceSessions.hangUp(pair.bobId)
      assert.ok(closed >= 1, `closed ${closed}`)
      assert.equal(pair.alice.getConnections(pair.bob.peerId).length, 0)
      assert.deepEqual(pair.aliceLost.hungUp, [bobId], "alice's tracker: closed on purpose, not lost")
      assert.deepEqual(pair.bobLost.hungUp, [aliceId], "bob's tracker heard the notice before the close")
      const alice = await waitFor("alice's queue deciding", () => pair.aliceQueue.find(d => d.peer === bobId), 10_000, 10)
      const bob = await waitFor("bob's queue deciding", () => pair.bobQueue.find(d => d.peer === aliceId), 10_000, 10)
      assert.equal(alice.queued, false, 'alice does not re-dial bob')
      assert.equal(bob.queued, false, 'bob does not re-dial alice')
      // the hold ends with the tags back: the next loss is re-dialled again
      await waitFor('the keep-alive tags back on both sides', async () =>
        await keepAliveTagged(pair.alice, pair.bob.peerId) && await keepAliveTagged(pair.bob, pair.alice.peerId), 15_000)
    } finally {
      await pair.stop()
    }
  })

  test('a peer that does not know the notice is hung up on all the same (and may re-dial)', async () => {
    const pair = await connectedPair()
    try {
      await pair.bob.unhandle(HANG_UP_PROTOCOL) // an older daemon
      assert.ok(await pair.aliceSessions.hangUp(pair.bobId) >= 1)
      assert.equal(pair.alice.getConnections(pair.bob.peerId).length, 0)
      assert.deepEqual(pair.bobLost.hungUp, [])
      const alice = await waitFor("alice's queue deciding", () => pair.aliceQueue.find(d => d.peer === pair.bob.peerId.toString()), 10_000, 10)
      assert.equal(alice.queued, false, 'our own re-dial is still held off')
      const bob = await waitFor("bob's queue deciding", () => pair.bobQueue.find(d => d.peer === pair.alice.peerId.toString()), 10_000, 10)
      assert.equal(bob.queued, true, 'bob, not told, takes it for a loss')
    } finally {
      await pair.stop()
    }
  })

  test('a malformed notice is refused unanswered, changes nothing, and the callee keeps serving', async () => {
    const pair = await connectedPair()
    try {
      const conn = pair.alice.getConnections(pair.bob.peerId)[0]
      const notices: Array<[string, Uint8Array | undefined]> = [
        ['another version', Uint8Array.of(2)],
        ['nothing (closed at once)', undefined],
        ['the version and more', Uint8Array.of(1, 1)],
        ['oversized', new Uint8Array(100_000).fill(1)]
      ]
      for (const [what, bytes] of notices) {
        const stream = await conn.newStream(HANG_UP_PROTOCOL)
        const reader = byteStream(stream)
        if (bytes != null) await reader.write(bytes)
        await stream.close()
        const answer = await reader.read({ signal: AbortSignal.timeout(5000) }).then(a => a?.byteLength ?? 0, () => 0)
        assert.equal(answer, 0, `${what}: no answer`)
        assert.deepEqual(pair.bobLost.hungUp, [], `${what}: not taken for a hang-up`)
        assert.equal(await keepAliveTagged(pair.bob, pair.alice.peerId), true, `${what}: bob would still re-dial alice`)
        assert.equal(await echoOnce(pair, what), what, `${what}: bob still serves`)
      }
    } finally {
      await pair.stop()
    }
  })
})
