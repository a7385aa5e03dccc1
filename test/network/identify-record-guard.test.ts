import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { createLoopbackNode } from '../helpers/nodes.js'
import { rsaKeyWithLongExponent } from '../helpers/keys.js'
import { varint } from '../helpers/varint.js'
import { IDENTIFY_PROTOCOL, identifyRefusal, signedRecordKey } from '../../src/network/identify-record-guard.js'
import { RefusedPeerRecord } from '../../src/network/errors.js'
import type { NetworkNode } from '../../src/network/index.js'

/** A length-delimited protobuf field. */
const field = (n: number, bytes: Uint8Array): Uint8Array => Buffer.concat([varint((n << 3) | 2), varint(bytes.byteLength), bytes])

/** A signed peer record of `peer`, signed by `signer`'s key, in its envelope's wire form. */
async function signedRecord (peer: PeerId, signer: PrivateKey): Promise<Uint8Array> {
  const record = new PeerRecord({ peerId: peer, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] })
  return (await RecordEnvelope.seal(record, signer)).marshal()
}

/** An identify message as libp2p sends one: the peer's key (field 1) and its signed record (field 8). */
const identifyMessage = (key: PrivateKey, record: Uint8Array): Uint8Array => Buffer.concat([field(1, publicKeyToProtobuf(key.publicKey)), field(8, record)])

describe('identifyRefusal', () => {
  let key: PrivateKey
  let peer: PeerId
  let stranger: PrivateKey
  before(async () => {
    key = await generateKeyPair('Ed25519')
    peer = peerIdFromPrivateKey(key)
    stranger = await generateKeyPair('Ed25519')
  })

  test('a record signed by the peer\'s own key passes, and so does a message with no record', async () => {
    assert.equal(identifyRefusal(identifyMessage(key, await signedRecord(peer, key)), peer), undefined)
    assert.equal(identifyRefusal(field(1, publicKeyToProtobuf(key.publicKey)), peer), undefined)
    assert.equal(identifyRefusal(new Uint8Array(0), peer), undefined)
  })

  test('a record signed by another key is refused (libp2p checked its signature first)', async () => {
    const refusal = identifyRefusal(identifyMessage(key, await signedRecord(peer, stranger)), peer)
    assert.ok(refusal instanceof RefusedPeerRecord)
    assert.match(refusal.message, /signed by another key than the peer's/)
  })

  test('a record carrying an RSA key with a long exponent is refused before anything is checked with it', () => {
    const { protobuf } = rsaKeyWithLongExponent()
    const envelope = Buffer.concat([field(1, protobuf), field(2, Uint8Array.from([3, 1])), field(3, new Uint8Array(40)), field(5, new Uint8Array(384))])
    assert.match(identifyRefusal(field(8, envelope), peer)?.message ?? '', /RSA public exponent has 3072 bits/)
  })

  test('a record signed by an ECDSA key (read, but naming no peer) is refused, not thrown', async () => {
    const ecdsa = await generateKeyPair('ECDSA', 'P-256')
    const refusal = identifyRefusal(field(8, await signedRecord(peer, ecdsa)), peer)
    assert.match(refusal?.message ?? '', /ECDSA key names no peer/)
  })

  test('the last record of a message counts, as protobuf reads it', async () => {
    const good = await signedRecord(peer, key)
    const bad = await signedRecord(peer, stranger)
    assert.ok(identifyRefusal(Buffer.concat([field(8, good), field(8, bad)]), peer) != null)
    assert.equal(identifyRefusal(Buffer.concat([field(8, bad), field(8, good)]), peer), undefined)
  })

  test('a record under another wire type is still found, as libp2p\'s decoder reads it', async () => {
    // field 8 tagged as a varint (wire type 0): protons reads it as bytes all the same
    const bad = await signedRecord(peer, stranger)
    const message = Buffer.concat([Buffer.from([(8 << 3) | 0]), varint(bad.byteLength), bad])
    assert.deepEqual(Buffer.from(signedRecordKey(message) ?? []), Buffer.from(publicKeyToProtobuf(stranger.publicKey)))
    assert.match(identifyRefusal(message, peer)?.message ?? '', /signed by another key/)
  })

  test('a malformed, truncated or empty record is refused with a one-line reason', async () => {
    const message = identifyMessage(key, await signedRecord(peer, key))
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['truncated', message.subarray(0, message.byteLength - 10), /not a protobuf/],
      ['a wire type protobuf does not have', Uint8Array.from([0x47, 0x01]), /not a protobuf/],
      ['an endless varint', new Uint8Array(12).fill(0xff), /not a protobuf/],
      ['an envelope with no key', field(8, field(3, new Uint8Array(8))), /key cannot be read/],
      ['an envelope whose key is noise', field(8, field(1, new Uint8Array(40).fill(9))), /key cannot be read/]
    ]
    for (const [name, bytes, reason] of cases) {
      const refusal = identifyRefusal(bytes, peer)
      assert.match(refusal?.message ?? '', reason, name)
      assert.doesNotMatch(refusal?.message ?? '', /\n/, name)
    }
  })

  test('signedRecordKey finds the envelope\'s key among other fields', async () => {
    const record = await signedRecord(peer, key)
    const message = Buffer.concat([field(5, Buffer.from('ipfs/0.1.0')), identifyMessage(key, record), field(3, Buffer.from('/ipfs/id/1.0.0'))])
    assert.deepEqual(Buffer.from(signedRecordKey(message) ?? []), Buffer.from(publicKeyToProtobuf(key.publicKey)))
  })
})

describe('identify on a real connection, guarded', () => {
  let victim: NetworkNode
  let liar: NetworkNode
  let honest: NetworkNode
  /** The liar's record, and how often libp2p checked its signature (counted where identify calls it; other nodes here check other records). */
  let lieRecord: Uint8Array
  let lieChecked = 0
  /** Settles when the victim has ended the identify stream the liar answered on, or checked the lie. */
  let lieEnded: Promise<void>
  let ended = (): void => {}
  const openAndCertify = RecordEnvelope.openAndCertify

  before(async () => {
    RecordEnvelope.openAndCertify = async (...args) => {
      if (Buffer.from(args[0].subarray()).equals(lieRecord)) {
        lieChecked++
        ended()
      }
      return await openAndCertify(...args)
    }
    victim = await createLoopbackNode()
    honest = await createLoopbackNode()
    const liarKey = await generateKeyPair('Ed25519')
    liar = await createLoopbackNode({}, liarKey)
    // the liar answers identify with its own key and a record of itself signed by a stranger's
    const stranger = await generateKeyPair('Ed25519')
    lieRecord = Buffer.from(await signedRecord(liar.peerId, stranger))
    const lie = identifyMessage(liarKey, lieRecord)
    await liar.unhandle(IDENTIFY_PROTOCOL)
    lieEnded = new Promise((resolve) => { ended = resolve })
    await liar.handle(IDENTIFY_PROTOCOL, async (stream: Stream) => {
      stream.addEventListener('close', ended)
      stream.send(Buffer.concat([varint(lie.byteLength), lie]))
      await stream.close()
    })
  })
  after(async () => {
    RecordEnvelope.openAndCertify = openAndCertify
    await Promise.all([victim?.stop(), honest?.stop(), liar?.stop()])
  })

  test('an honest peer\'s signed record is checked and kept', async () => {
    const identified = new Promise<void>((resolve) => {
      victim.addEventListener('peer:identify', (event) => { if (event.detail.peerId.equals(honest.peerId)) resolve() })
    })
    await victim.dial(honest.getMultiaddrs()[0])
    await identified
    const stored = await victim.peerStore.get(honest.peerId)
    assert.ok(stored.peerRecordEnvelope != null, 'the honest record is kept')
  })

  test('a record signed by another key is refused before libp2p checks its signature; the connection still serves', async () => {
    const connection = await victim.dial(liar.getMultiaddrs()[0])
    // the identify run when a connection opens, then one awaited to its end:
    // without the guard, libp2p checks the lie's signature after reading it
    await lieEnded
    await assert.rejects(victim.services.identify.identify(connection))
    assert.equal(lieChecked, 0, 'libp2p checked no signature of the lie')
    assert.equal((await victim.peerStore.get(liar.peerId)).peerRecordEnvelope, undefined)
    assert.ok(await victim.services.ping.ping(liar.peerId) >= 0)
  })
})
