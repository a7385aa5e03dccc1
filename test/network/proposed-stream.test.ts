import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Stream } from '@libp2p/interface'
import { createLoopbackNode } from '../helpers/nodes.js'
import { startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { StreamMessageEvent } from '@libp2p/interface'
import { DHT_PROTOCOL, negotiationAnswer, negotiationProposal, stripNegotiationAnswer, type NetworkNode } from '../../src/network/index.js'
import { waitFor } from '../helpers/wait.js'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { CONNECT_PROTOCOL, readResponse, type SessionManager } from '../../src/session/index.js'
import { ProtocolViolation } from '../../src/session/session-errors.js'

/** A stream that hands `chunks` to readResponse as libp2p would, one 'message' event each. */
function fakeStream (chunks: Uint8Array[]): Stream {
  const target = new EventTarget()
  const stream = Object.assign(target, {
    readStatus: 'readable',
    remoteWriteStatus: 'writable',
    readBufferLength: 0,
    unshift: () => {}
  }) as unknown as Stream
  setImmediate(() => {
    for (const data of chunks) target.dispatchEvent(Object.assign(new Event('message'), { data }))
  })
  return stream
}

const OK = Uint8Array.from([1, 0, 0])

/** What a libp2p stream does with 'message' listeners, unshifted bytes and abort, no more. */
class ListenedStream extends EventTarget {
  listeners = 0
  buffered = new Uint8ArrayList()
  aborted?: Error
  override addEventListener (type: string, listener: Parameters<EventTarget['addEventListener']>[1], options?: Parameters<EventTarget['addEventListener']>[2]): void {
    if (type === 'message') this.listeners++
    super.addEventListener(type, listener, options)
    if (type === 'message' && this.buffered.byteLength > 0) {
      const data = this.buffered.sublist()
      this.buffered.consume(data.byteLength)
      queueMicrotask(() => this.dispatchEvent(new StreamMessageEvent(data)))
    }
  }

  override removeEventListener (type: string, listener: Parameters<EventTarget['removeEventListener']>[1], options?: Parameters<EventTarget['removeEventListener']>[2]): void {
    if (type === 'message') this.listeners--
    super.removeEventListener(type, listener, options)
  }

  listenerCount (type: string): number { return type === 'message' ? this.listeners : 0 }
  unshift (data: Uint8ArrayList): void { this.buffered.prepend(data) }
  abort (err: Error): void { this.aborted = err }
  receive (data: Uint8Array): void { this.dispatchEvent(new StreamMessageEvent(data)) }
}

/**
 * A connect on a connection with no spare stream proposes the protocol in
 * the request's own flight (network/proposed-stream.ts) instead of waiting a
 * round trip for multistream-select, and reads the remote's confirmation in
 * front of its response.
 */
describe('connect protocol proposed with the request', () => {
  test('the proposal is multistream-select 1.0.0, byte for byte, and the answer echoes it', () => {
    const expected = Buffer.concat([Buffer.from([19]), Buffer.from('/multistream/1.0.0\n'), Buffer.from([22]), Buffer.from('/cspace/connect/1.0.0\n')])
    assert.deepEqual(Buffer.from(negotiationProposal(CONNECT_PROTOCOL)), expected)
    assert.deepEqual(Buffer.from(negotiationAnswer(CONNECT_PROTOCOL)), expected)
  })

  test('the response is read behind the answer, however the bytes are split', async () => {
    const all = Buffer.concat([negotiationAnswer(CONNECT_PROTOCOL), OK])
    for (const cut of [1, 5, 20, all.length - 3, all.length - 1]) {
      const { response } = await readResponse(fakeStream([all.subarray(0, cut), all.subarray(cut)]), AbortSignal.timeout(5000), negotiationAnswer(CONNECT_PROTOCOL))
      assert.equal(response.status, 0, `split at ${cut}`)
    }
  })

  test('an answer other than the protocol ("na") is a protocol violation, at its first wrong byte', async () => {
    const na = Buffer.concat([Buffer.from([19]), Buffer.from('/multistream/1.0.0\n'), Buffer.from([3]), Buffer.from('na\n')])
    await assert.rejects(readResponse(fakeStream([na]), AbortSignal.timeout(5000), negotiationAnswer(CONNECT_PROTOCOL)),
      (err: Error) => err instanceof ProtocolViolation && /does not offer the cspace connect protocol/.test(err.message))
    await assert.rejects(readResponse(fakeStream([Buffer.from([0xff])]), AbortSignal.timeout(5000), negotiationAnswer(CONNECT_PROTOCOL)), ProtocolViolation)
  })

  test('a truncated answer waits for more and fails with the signal, not a crash', async () => {
    const part = negotiationAnswer(CONNECT_PROTOCOL).subarray(0, 10)
    await assert.rejects(readResponse(fakeStream([part]), AbortSignal.timeout(200), negotiationAnswer(CONNECT_PROTOCOL)), /abort|timeout/i)
  })

  describe('between two session managers', () => {
    let pair: EchoPair
    let alice: NetworkNode
    let bob: NetworkNode
    let mute: NetworkNode
    let aliceSessions: SessionManager
    let bobId: string
    let muteId: string

    before(async () => {
      pair = await startEchoPair()
      ;({ alice, bob, aliceSessions, bobId } = pair)
      const muteKey = await generateKeyPair('Ed25519')
      muteId = userIdFromPublicKey(muteKey.publicKey).text
      mute = await createLoopbackNode({}, muteKey) // no session manager: no connect protocol
    })

    after(async () => {
      await pair?.stop()
      await mute?.stop()
    })

    test('a first connect sends proposal, request and early bytes without negotiating first', async () => {
      const connection = await alice.dial(bob.getMultiaddrs()[0])
      let negotiated = 0
      const newStream = connection.newStream.bind(connection)
      ;(connection as { newStream: Connection['newStream'] }).newStream = async (...args) => { negotiated++; return await newStream(...args) }
      const { stream, accepted, onReply } = await aliceSessions.connectEarly(bobId, 'echo', { firstBytes: Promise.resolve(Buffer.from('early ')) })
      assert.equal(negotiated, 0, 'the connect stream was negotiated before the request')
      assert.equal(stream.protocol, CONNECT_PROTOCOL)
      stream.send(Buffer.from('bytes'))
      await accepted
      onReply()
      let text = ''
      for await (const chunk of stream) {
        text += Buffer.from(chunk.subarray()).toString()
        if (text.length >= 'early bytes'.length) break
      }
      assert.equal(text, 'early bytes')
      await stream.close()
    })

    test('a peer without the connect protocol is reported as such, not hung', async () => {
      await alice.dial(mute.getMultiaddrs()[0])
      await assert.rejects(aliceSessions.connect(muteId, 'echo'), (err: Error) => /does not offer the cspace connect protocol|no answer to the service request/.test(err.message))
    })
  })
})

/**
 * kad-dht's requests propose their protocol in the request's flight too
 * (proposeDhtStreams): one round trip per request instead of two. kad-dht's
 * reader never sees the remote's confirmation (stripNegotiationAnswer).
 */
describe('DHT requests proposed with the request', () => {
  const answer = negotiationAnswer(DHT_PROTOCOL)
  const reply = Buffer.from('the reply')

  test('the reader gets exactly the bytes after the confirmation, however they are split', async () => {
    const all = Buffer.concat([answer, reply])
    for (const cut of [1, 10, answer.length - 1, answer.length, answer.length + 3, all.length]) {
      const stream = new ListenedStream()
      stripNegotiationAnswer(stream as unknown as Stream, DHT_PROTOCOL)
      const got = new Uint8ArrayList()
      stream.addEventListener('message', (evt: Event) => { got.append((evt as StreamMessageEvent).data) })
      stream.receive(all.subarray(0, cut))
      if (cut < all.length) stream.receive(all.subarray(cut))
      assert.equal(Buffer.from(got.subarray()).toString(), 'the reply', `split at ${cut}`)
      assert.equal(stream.aborted, undefined)
    }
  })

  test('bytes that come before the reader listens are kept for it', async () => {
    const stream = new ListenedStream()
    stripNegotiationAnswer(stream as unknown as Stream, DHT_PROTOCOL)
    stream.receive(Buffer.concat([answer, reply]))
    const got = await new Promise<Uint8ArrayList>((resolve) => { stream.addEventListener('message', (evt: Event) => { resolve((evt as StreamMessageEvent).data as Uint8ArrayList) }) })
    assert.equal(Buffer.from(got.subarray()).toString(), 'the reply')
  })

  test('a refusal ("na") or garbage aborts the stream at its first wrong byte; the reader sees none of it', () => {
    const na = Buffer.concat([Buffer.from([19]), Buffer.from('/multistream/1.0.0\n'), Buffer.from([3]), Buffer.from('na\n')])
    for (const bytes of [na, Buffer.from([0xff, 1, 2])]) {
      const stream = new ListenedStream()
      stripNegotiationAnswer(stream as unknown as Stream, DHT_PROTOCOL)
      let seen = 0
      stream.addEventListener('message', () => { seen++ })
      stream.receive(bytes)
      assert.match(stream.aborted?.message ?? '', /does not offer \/cspace\/kad\/1\.0\.0/)
      assert.equal(seen, 0)
    }
  })

  describe('between two nodes', () => {
    let a: NetworkNode
    let b: NetworkNode
    const key = new TextEncoder().encode('/any/key')

    before(async () => {
      a = await createLoopbackNode()
      b = await createLoopbackNode()
      await a.dial(b.getMultiaddrs()[0])
    })

    after(async () => {
      await a?.stop()
      await b?.stop()
    })

    /** The query's events from b (answers and errors), until it ends. */
    async function askB (): Promise<Array<{ name: string, error?: Error }>> {
      const events = []
      for await (const e of a.services.dht.getClosestPeers(key, { signal: AbortSignal.timeout(10_000) })) {
        if ('from' in e && e.from.equals(b.peerId)) events.push(e as { name: string, error?: Error })
      }
      return events
    }

    test('a request is answered without libp2p negotiating the protocol first', async () => {
      // b is in a's routing table once identify has told a that b serves the DHT
      await waitFor('b answering a DHT query', async () => (await askB()).some(e => e.name === 'PEER_RESPONSE'), 10_000, 100)
      const connection = a.getConnections(b.peerId)[0]
      let negotiated = 0
      const newStream = connection.newStream.bind(connection)
      ;(connection as { newStream: Connection['newStream'] }).newStream = async (...args) => { negotiated++; return await newStream(...args) }
      const events = await askB()
      assert.deepEqual(events.map(e => e.name), ['PEER_RESPONSE'])
      assert.equal(negotiated, 0, 'the DHT stream was negotiated before the request')
    })

    test('a peer that stopped serving the DHT answers "na", and the request fails with that at once', async () => {
      await b.unhandle(DHT_PROTOCOL)
      const events = await askB()
      assert.equal(events[0]?.name, 'QUERY_ERROR')
      assert.match(events[0].error?.message ?? '', /does not offer \/cspace\/kad\/1\.0\.0/)
    })
  })
})
