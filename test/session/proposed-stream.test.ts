import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Stream } from '@libp2p/interface'
import { createLoopbackNode } from '../helpers/nodes.js'
import { startEchoPair, type EchoPair } from '../helpers/sessions.js'
import type { NetworkNode } from '../../src/network/index.js'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { CONNECT_PROTOCOL, readResponse, type SessionManager } from '../../src/session/index.js'
import { negotiationAnswer, negotiationProposal } from '../../src/session/proposed-stream.js'
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

/**
 * A connect on a connection with no spare stream proposes the protocol in
 * the request's own flight (session/proposed-stream.ts) instead of waiting a
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
