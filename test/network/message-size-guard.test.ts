import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { connectThroughRouter, createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import { varint } from '../helpers/varint.js'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { PING_PROTOCOL } from '@libp2p/ping'
import { DHT_PROTOCOL, type NetworkNode } from '../../src/network/index.js'
import { MessageFrameWatcher, StreamByteWatcher, guardMessages } from '../../src/network/message-size-guard.js'
import { Uint8ArrayList } from 'uint8arraylist'

const message = (bodyBytes: number): Uint8Array => Buffer.concat([varint(bodyBytes), Buffer.alloc(bodyBytes, 7)])

describe('StreamByteWatcher', () => {
  test('counts every byte; one past the limit is a violation', () => {
    const w = new StreamByteWatcher(100)
    assert.equal(w.feed(new Uint8Array(60)), undefined)
    assert.equal(w.feed(new Uint8Array(40)), undefined)
    assert.match(w.feed(new Uint8Array(1)) ?? '', /more than 100 bytes on one stream/)
  })
})

describe('MessageFrameWatcher', () => {
  test('messages up to the limit pass, split anywhere, zero-length ones included', () => {
    const w = new MessageFrameWatcher({ maxMessageBytes: 300, firstMessageOnly: false })
    const stream = Buffer.concat([message(300), message(0), message(1), message(299)])
    for (let i = 0; i < stream.length; i += 7) assert.equal(w.feed(stream.subarray(i, i + 7)), undefined)
    assert.equal(w.completed, 4)
  })

  test('a length over the limit is refused at its prefix, before any body', () => {
    const w = new MessageFrameWatcher({ maxMessageBytes: 300, firstMessageOnly: false })
    assert.equal(w.feed(message(10)), undefined)
    assert.match(w.feed(varint(301)) ?? '', /301 bytes or more is over the limit of 300/)
  })

  test('an endless length prefix is refused past the bytes the limit needs', () => {
    const w = new MessageFrameWatcher({ maxMessageBytes: 64 * 1024, firstMessageOnly: false })
    assert.equal(w.feed(Uint8Array.from([0x80, 0x80])), undefined)
    assert.match(w.feed(Uint8Array.from([0x80])) ?? '', /length prefix longer than 3 bytes/)
  })

  test('a truncated message is no violation: it is the reader\'s to time out', () => {
    const w = new MessageFrameWatcher({ maxMessageBytes: 300, firstMessageOnly: false })
    assert.equal(w.feed(message(200).subarray(0, 50)), undefined)
    assert.equal(w.completed, 0)
  })

  test('onMessage sees each whole body however the bytes are split, and its refusal is the violation', () => {
    const bodies: string[] = []
    const w = new MessageFrameWatcher({ maxMessageBytes: 300, firstMessageOnly: false }, (body) => {
      bodies.push(Buffer.from(body).toString())
      return body.byteLength === 3 ? 'three bytes are refused' : undefined
    })
    const framed = (text: string): Buffer => Buffer.concat([varint(text.length), Buffer.from(text)])
    const stream = Buffer.concat([framed('a'.repeat(200)), framed(''), framed('hello')])
    for (let i = 0; i < stream.length; i += 7) assert.equal(w.feed(stream.subarray(i, i + 7)), undefined)
    assert.deepEqual(bodies, ['a'.repeat(200), '', 'hello'])
    const last = framed('abc')
    assert.equal(w.feed(last.subarray(0, 3)), undefined, 'nothing is refused before the last byte')
    assert.equal(w.feed(last.subarray(3)), 'three bytes are refused')
  })

  test('firstMessageOnly stops checking after the first message (a relay stream then carries raw bytes)', () => {
    const w = new MessageFrameWatcher({ maxMessageBytes: 16, firstMessageOnly: true })
    assert.equal(w.feed(Buffer.concat([message(16), Buffer.alloc(1000, 0xff)])), undefined)
    assert.equal(w.done, true)
  })
})

/**
 * Sends `chunk` on `stream` as fast as the stream takes it, until `max` bytes
 * or until the stream is cut; the bytes it took. Without the guard kad-dht
 * keeps reading (and granting window) until its own 4 MiB buffer is full.
 */
async function sendUntilCut (stream: Stream, chunk: Uint8Array, max: number): Promise<number> {
  let sent = 0
  while (sent < max && stream.status === 'open' && stream.writeStatus === 'writable') {
    sent += chunk.byteLength
    if (!stream.send(chunk)) {
      try {
        await stream.onDrain({ signal: AbortSignal.timeout(20_000) })
      } catch {
        break
      }
    }
  }
  return sent
}

describe('guardMessages with an inspector', () => {
  /** The part of a libp2p stream the guard hooks, recording what is passed on and how it ends. */
  const fakeStream = (buffered: Uint8Array[]): { stream: Stream, passed: number[], aborted: Error[] } => {
    const passed: number[] = []
    const aborted: Error[] = []
    const stream = {
      protocol: '/test/1.0.0',
      readBuffer: buffered.length === 0 ? undefined : new Uint8ArrayList(...buffered),
      onData (data: Uint8Array | Uint8ArrayList) { passed.push(data.byteLength) },
      abort (err: Error) { aborted.push(err) }
    }
    return { stream: stream as unknown as Stream, passed, aborted }
  }
  const refuseX = (body: Uint8Array): Error | undefined => body[0] === 0x58 ? new Error('X refused') : undefined
  const framed = (text: string): Buffer => Buffer.concat([varint(text.length), Buffer.from(text)])

  test('a refused message already buffered before the guard (a negotiation\'s leftovers) aborts the stream at once', () => {
    const { stream, passed, aborted } = fakeStream([framed('ok'), framed('X bad')])
    guardMessages(stream, { maxMessageBytes: 100, firstMessageOnly: false }, refuseX)
    assert.deepEqual(aborted.map(e => e.message), ['X refused'])
    assert.deepEqual(passed, [])
  })

  test('arriving bytes: messages passed on as they come; the refused one\'s last byte never is', () => {
    const { stream, passed, aborted } = fakeStream([])
    guardMessages(stream, { maxMessageBytes: 100, firstMessageOnly: false }, refuseX)
    const receive = (bytes: Uint8Array): void => { (stream as unknown as { onData: (d: Uint8Array) => void }).onData(bytes) }
    receive(framed('fine'))
    const bad = framed('X')
    receive(bad.subarray(0, 1)) // the length prefix alone
    assert.equal(aborted.length, 0)
    receive(bad.subarray(1))
    assert.deepEqual(passed, [5, 1], 'the good message and the refused one\'s prefix, not its body')
    assert.deepEqual(aborted.map(e => e.message), ['X refused'])
  })
})

describe('libp2p protocols with no size limit of their own, guarded', () => {
  let target: NetworkNode
  let attacker: NetworkNode

  before(async () => {
    target = await createLoopbackNode()
    attacker = await createLoopbackNode()
  })
  after(async () => {
    await attacker?.stop()
    await target?.stop()
  })

  const openDhtStream = async (): Promise<Stream> => {
    const connection = await attacker.dial(target.getMultiaddrs()[0])
    return await connection.newStream(DHT_PROTOCOL)
  }

  test('a DHT message announcing 8 MiB is cut off at its length prefix, not buffered', async () => {
    const stream = await openDhtStream()
    stream.send(varint(8 << 20))
    const sent = await sendUntilCut(stream, new Uint8Array(16 * 1024), 8 << 20)
    await waitFor('the stream reset by the target', () => stream.status !== 'open')
    assert.ok(sent < 1 << 20, `the target took ${sent} bytes of an oversized message before cutting it off`)
    // the connection itself, and the DHT on it, still serve
    const pong = await attacker.services.ping.ping(target.peerId)
    assert.ok(pong >= 0)
  })

  test('a length prefix that never ends is cut off after a few bytes', async () => {
    const stream = await openDhtStream()
    const sent = await sendUntilCut(stream, new Uint8Array(16 * 1024).fill(0x80), 2 << 20)
    await waitFor('the stream reset by the target', () => stream.status !== 'open')
    assert.ok(sent < 1 << 20, `the target read ${sent} bytes of one length prefix`)
  })

  test('a ping stream that goes on past a few hundred pings is cut off (its echoes were queued without end)', async () => {
    const connection = await attacker.dial(target.getMultiaddrs()[0])
    const stream = await connection.newStream(PING_PROTOCOL)
    const sent = await sendUntilCut(stream, new Uint8Array(32 * 1024), 4 << 20)
    await waitFor('the stream reset by the target', () => stream.status !== 'open')
    assert.ok(sent < 1 << 20, `the target echoed ${sent} bytes of one ping stream`)
    // a real ping still works
    assert.ok(await attacker.services.ping.ping(target.peerId) >= 0)
  })

  test('a DHT request within the limit is answered as before', async () => {
    // a FIND_NODE for the target's own key, through the attacker's DHT client
    const found = []
    for await (const event of attacker.services.dht.getClosestPeers(target.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(20_000) })) {
      if (event.name === 'PEER_RESPONSE') found.push(event.from.toString())
    }
    assert.ok(found.includes(target.peerId.toString()), `the target answered: ${found.join(', ')}`)
  })
})

describe('a router\'s relay, guarded', () => {
  let router: NetworkNode
  const users: NetworkNode[] = []
  before(async () => { router = await createLoopbackNode({ router: true }) })
  after(async () => {
    for (const u of users) await u.stop()
    await router?.stop()
  })

  test('a relayed connection works: after the first message a relay stream carries the connection\'s bytes unchecked', async () => {
    const bob = await createLoopbackNode({ listen: [] })
    const alice = await createLoopbackNode({ listen: [] })
    users.push(bob, alice)
    // bob takes a slot (a HOP stream), then alice's connect is the router's second HOP stream:
    // with libp2p 3.3's middleware list growing per stream, its handler ran twice on it
    const connection = await connectThroughRouter(router, alice, bob)
    assert.ok(connection.limits != null, 'a relayed (limited) connection')
    const rtt = await alice.services.ping.ping(bob.peerId, { runOnLimitedConnection: true, signal: AbortSignal.timeout(20_000) })
    assert.ok(rtt >= 0)
  })

  test('a HOP message announcing 1 MiB is cut off at its length prefix', async () => {
    const attacker = await createLoopbackNode({ listen: [] })
    users.push(attacker)
    const connection = await attacker.dial(router.getMultiaddrs()[0])
    const stream = await connection.newStream(RELAY_V2_HOP_CODEC)
    stream.send(varint(1 << 20))
    const sent = await sendUntilCut(stream, new Uint8Array(16 * 1024), 4 << 20)
    await waitFor('the stream reset by the router', () => stream.status !== 'open')
    assert.ok(sent < 1 << 20, `the router took ${sent} bytes of an oversized HOP message`)
  })
})
