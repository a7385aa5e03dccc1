import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection, Stream } from '@libp2p/interface'
import { RELAY_V2_HOP_CODEC, RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'
import { createHash, randomBytes } from 'node:crypto'
import { connectThroughRouter, createLoopbackNode } from '../helpers/nodes.js'
import { DEFAULT_RELAY_LIMITS } from '../../src/network/relay.js'
import { waitFor } from '../helpers/wait.js'
import type { NetworkNode } from '../../src/network/index.js'

/** The relay stream of `protocol` between two nodes, on `node`'s side. */
function relayStream (node: NetworkNode, peer: NetworkNode, protocol: string): Stream {
  const stream = node.getConnections(peer.peerId).flatMap(c => c.streams).find(s => s.protocol === protocol && s.status === 'open')
  assert.ok(stream != null, `a ${protocol} stream`)
  return stream
}

/**
 * libp2p's relay pipes a circuit's two streams through a queue with no
 * bound: a receiver that stops reading left the router taking in all its
 * sender sent. Real nodes: alice reaches bob through a router; bob stops
 * reading the circuit; alice goes on sending.
 */
describe('a circuit whose receiver stops reading', () => {
  let router: NetworkNode
  let alice: NetworkNode
  let bob: NetworkNode
  let relayed: Connection

  before(async () => {
    router = await createLoopbackNode({ router: true })
    bob = await createLoopbackNode({ listen: [] })
    alice = await createLoopbackNode({ listen: [] })
    relayed = await connectThroughRouter(router, alice, bob)
  })
  after(async () => {
    for (const n of [alice, bob, router]) await n?.stop()
  })

  test('holds its sender back at the router, and lets it go on once the receiver reads again', async () => {
    const towardsBob = relayStream(router, bob, RELAY_V2_STOP_CODEC)
    const fromAlice = relayStream(router, alice, RELAY_V2_HOP_CODEC)
    let arrived = 0
    let forwarded = 0
    fromAlice.addEventListener('message', (evt) => { arrived += evt.data.byteLength })
    const send = towardsBob.send.bind(towardsBob)
    towardsBob.send = (data) => { forwarded += data.byteLength; return send(data) }

    relayStream(bob, router, RELAY_V2_STOP_CODEC).pause()
    // raw streams of the relayed connection, each sent its first window (no
    // answer from bob needed): 32 MiB in all, more than any window holds
    const muxer = (relayed as unknown as { muxer: { createStream: () => Promise<Stream> } }).muxer
    for (let i = 0; i < 128; i++) (await muxer.createStream()).send(new Uint8Array(256 * 1024))

    await waitFor('the router to stop reading alice', () => fromAlice.readStatus === 'paused', 20_000)
    const held = arrived - forwarded
    assert.ok(held < 16 << 20, `the router holds ${held} bytes of the circuit`)

    relayStream(bob, router, RELAY_V2_STOP_CODEC).resume()
    await waitFor('the router to read alice again', () => fromAlice.readStatus === 'readable' && forwarded > 16 << 20, 20_000)
  })
})

/**
 * The other side of the same queues: a relayed connection is a yamux
 * connection inside one relay stream, so when the router is the bottleneck
 * (its rate cap here) that stream holds what every inner stream has in
 * flight. Four parallel bulk streams, each writing as a tunnel does, must
 * arrive whole: neither the circuit's flow control nor the 8 MiB a stream
 * may hold unsent (yamux-limits.ts) may cut them off.
 */
describe('parallel transfers through a router slower than their sender', () => {
  const nodes: NetworkNode[] = []
  after(async () => { for (const n of nodes) await n.stop() })

  test('four streams of 6 MiB each arrive whole through a router capped at 8 MiB/s', async () => {
    const router = await createLoopbackNode({ router: true, relayLimits: { ...DEFAULT_RELAY_LIMITS, relayBytesPerSecond: 8 << 20 } })
    const bob = await createLoopbackNode({ listen: [] })
    const alice = await createLoopbackNode({ listen: [] })
    nodes.push(alice, bob, router)
    const received = new Map<number, Promise<string>>()
    let next = 0
    await bob.handle('/test/sink/1.0.0', (stream) => {
      const hash = createHash('sha256')
      received.set(next++, new Promise((resolve, reject) => {
        stream.addEventListener('message', (evt) => { hash.update(evt.data.subarray()) })
        // 'end': alice's FIN after every byte was delivered
        stream.addEventListener('end', () => { resolve(hash.digest('hex')); void stream.close() })
        stream.addEventListener('close', (evt) => { if (evt.error != null) reject(evt.error) })
      }))
    }, { runOnLimitedConnection: true })
    const connection = await connectThroughRouter(router, alice, bob)

    const sent = await Promise.all([0, 1, 2, 3].map(async () => {
      const data = randomBytes(6 << 20)
      const stream = await connection.newStream('/test/sink/1.0.0', { runOnLimitedConnection: true })
      for (let at = 0; at < data.length; at += 64 * 1024) {
        stream.send(data.subarray(at, at + 64 * 1024))
        await waitFor('room in the stream\'s queue', () => stream.writeBufferLength <= 256 * 1024 || stream.status !== 'open', 60_000, 5)
        assert.equal(stream.status, 'open', 'the stream is still open')
      }
      await stream.close()
      return createHash('sha256').update(data).digest('hex')
    }))
    await waitFor('four streams at bob', () => received.size === 4, 60_000)
    const hashes = await Promise.all([...received.values()])
    assert.deepEqual([...hashes].sort(), [...sent].sort())
  })
})
