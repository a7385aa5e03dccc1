import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import { rsaKeyWithLongExponent } from '../helpers/keys.js'
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { decodePresence, encodePresence, presenceKey, presenceSelector, presenceValidator, MAX_PRESENCE_BYTES, InvalidPresenceRecord } from '../../src/network/index.js'

const HOUR = 3600_000

async function signed (seq = 5, expires = Date.now() + HOUR, online = true) {
  const key = await generateKeyPair('Ed25519')
  const dhtKey = presenceKey(peerIdFromPrivateKey(key))
  const value = await encodePresence(key, { addresses: ['/ip4/127.0.0.1/tcp/4001'], seq, expires, online })
  return { key, dhtKey, value }
}

function tamper (value: Uint8Array, edit: (outer: any, payload: any) => void): Uint8Array {
  const outer = JSON.parse(Buffer.from(value).toString())
  const payload = JSON.parse(Buffer.from(outer.payload, 'base64').toString())
  edit(outer, payload)
  outer.payload = Buffer.from(JSON.stringify(payload)).toString('base64')
  return Buffer.from(JSON.stringify(outer))
}

async function hold (ds: MemoryDatastore, key: Uint8Array, value: Uint8Array): Promise<void> {
  await ds.put(new Key(`/dht/record/${uint8ArrayToString(key, 'base32')}`, false), new Libp2pRecord(key, value, new Date()).serialize())
}

describe('presence records', () => {
  test('a signed record decodes with its fields', async () => {
    const { key, dhtKey, value } = await signed(7)
    const r = await decodePresence(dhtKey, value)
    assert.equal(r.seq, 7)
    assert.equal(r.online, true)
    assert.deepEqual(r.addresses, ['/ip4/127.0.0.1/tcp/4001'])
    assert.ok(r.peerId.equals(peerIdFromPrivateKey(key)))
  })

  test('a record verified once is not verified again; a copy changed in any byte, or under another DHT key, still is', async () => {
    const { dhtKey, value } = await signed(8)
    const first = await decodePresence(dhtKey, value)
    assert.equal(await decodePresence(dhtKey, Buffer.from(value)), first, 'the same bytes give the remembered record')
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.addresses), 'a remembered record cannot be changed by one of its users')
    const flipped = Buffer.from(value)
    const sigAt = flipped.indexOf('"sig":"') + 8
    flipped[sigAt] = flipped[sigAt] === 0x41 ? 0x42 : 0x41
    await assert.rejects(decodePresence(dhtKey, flipped), /bad signature|not UTF-8 JSON/)
    await assert.rejects(decodePresence(dhtKey, flipped), /bad signature|not UTF-8 JSON/, 'a failure is checked again, not remembered')
    const other = await signed(8)
    await assert.rejects(decodePresence(other.dhtKey, value), /signed by a key other than the one the DHT key names/)
  })

  test('an RSA key with a public exponent thousands of bits long is refused before its signature is checked', async () => {
    const { key, protobuf } = rsaKeyWithLongExponent()
    const payload = Buffer.from(JSON.stringify({ v: 1, key: Buffer.from(protobuf).toString('base64'), addrs: [], seq: 1, expires: Date.now() + HOUR, online: true }))
    const value = Buffer.from(JSON.stringify({ v: 1, payload: payload.toString('base64'), sig: Buffer.alloc(384, 1).toString('base64') }))
    await assert.rejects(decodePresence(presenceKey(peerIdFromPublicKey(key)), value), (err: Error) => err instanceof InvalidPresenceRecord && /payload\.key is refused: its RSA public exponent has 3072 bits/.test(err.message))
  })

  test('an ECDSA key, which libp2p parses but names no peer by, is an invalid record, not a raw library error', async () => {
    const key = await generateKeyPair('ECDSA', 'P-256')
    const payload = Buffer.from(JSON.stringify({ v: 1, key: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64'), addrs: [], seq: 1, expires: Date.now() + HOUR, online: true }))
    const value = Buffer.from(JSON.stringify({ v: 1, payload: payload.toString('base64'), sig: Buffer.alloc(64, 1).toString('base64') }))
    await assert.rejects(decodePresence(new TextEncoder().encode('/cspace/presence/x'), value), (err: Error) => err instanceof InvalidPresenceRecord && /payload\.key is refused: a key of type ECDSA names no peer/.test(err.message))
  })

  test('RSA keys (whose peer ids do not carry the key) work too', async () => {
    const key = await generateKeyPair('RSA', 2048)
    const dhtKey = presenceKey(peerIdFromPrivateKey(key))
    const value = await encodePresence(key, { addresses: [], seq: 1, expires: Date.now() + HOUR, online: false })
    await presenceValidator({ datastore: new MemoryDatastore() })(dhtKey, value)
  })

  const validate = presenceValidator({ datastore: new MemoryDatastore() })
  const rejects = async (dhtKey: Uint8Array, value: Uint8Array, why: RegExp): Promise<void> => {
    await assert.rejects(async () => { await validate(dhtKey, value) }, (err: Error) => err instanceof InvalidPresenceRecord && why.test(err.message))
  }

  test('malformed records are rejected with the reason', async () => {
    const { dhtKey, value } = await signed()
    await rejects(dhtKey, Buffer.from('not json'), /not UTF-8 JSON/)
    await rejects(dhtKey, Buffer.from([0xff, 0xfe, 0x00]), /not UTF-8 JSON/)
    await rejects(dhtKey, Buffer.from('{"v":2}'), /unknown envelope version/)
    await rejects(dhtKey, Buffer.from('[]'), /unknown envelope version/)
    await rejects(dhtKey, tamper(value, (_o, p) => { p.seq = -1 }), /seq/)
    await rejects(dhtKey, tamper(value, (_o, p) => { p.addrs = ['not a multiaddr'] }), /not a multiaddr/)
    await rejects(dhtKey, tamper(value, (_o, p) => { p.online = 'yes' }), /online/)
    await rejects(dhtKey, tamper(value, (_o, p) => { p.key = 'AAAA' }), /not a public key/)
  })

  test('truncated records are rejected', async () => {
    const { dhtKey, value } = await signed()
    for (const n of [0, 1, 10, value.length / 2, value.length - 1]) {
      await assert.rejects(async () => { await validate(dhtKey, value.subarray(0, Math.floor(n))) }, InvalidPresenceRecord)
    }
  })

  test('oversized records are rejected before parsing', async () => {
    const { dhtKey } = await signed()
    await rejects(dhtKey, Buffer.alloc(MAX_PRESENCE_BYTES + 1, 0x20), /over the 4096-byte limit/)
    const key = await generateKeyPair('Ed25519')
    await assert.rejects(encodePresence(key, { addresses: Array.from({ length: 16 }, (_, i) => `/dns4/${'a'.repeat(200)}${i}.example/tcp/1`), seq: 1, expires: Date.now() + HOUR, online: true }), InvalidPresenceRecord)
  })

  test('a changed payload breaks the signature', async () => {
    const { dhtKey, value } = await signed()
    await rejects(dhtKey, tamper(value, (_o, p) => { p.addrs = ['/ip4/6.6.6.6/tcp/1'] }), /bad signature/)
  })

  test('a record signed by another key than the DHT key names is rejected', async () => {
    const a = await signed()
    const b = await signed()
    await rejects(a.dhtKey, b.value, /other than the one the DHT key names/)
  })

  test('expired records and records valid too far ahead are rejected', async () => {
    const old = await signed(1, Date.now() - 1)
    await rejects(old.dhtKey, old.value, /expired/)
    const far = await signed(1, Date.now() + 30 * 24 * HOUR)
    await rejects(far.dhtKey, far.value, /too far in the future/)
  })

  test('sequence must be greater than the record held; the same record is idempotent', async () => {
    const ds = new MemoryDatastore()
    const v = presenceValidator({ datastore: ds })
    const key = await generateKeyPair('Ed25519')
    const dhtKey = presenceKey(peerIdFromPrivateKey(key))
    const rec = async (seq: number): Promise<Uint8Array> => await encodePresence(key, { addresses: [], seq, expires: Date.now() + HOUR, online: true })
    const held = await rec(10)
    await hold(ds, dhtKey, held)
    await v(dhtKey, held) // the very same bytes
    await v(dhtKey, await rec(11))
    await assert.rejects(async () => { await v(dhtKey, await rec(10)) }, /not greater than the 10 already held/)
    await assert.rejects(async () => { await v(dhtKey, await rec(9)) }, /not greater/)
  })

  test('the selector picks the highest sequence and ignores garbage', async () => {
    const key = await generateKeyPair('Ed25519')
    const dhtKey = presenceKey(peerIdFromPrivateKey(key))
    const rec = async (seq: number): Promise<Uint8Array> => await encodePresence(key, { addresses: [], seq, expires: Date.now() + HOUR, online: true })
    assert.equal(await presenceSelector(dhtKey, [await rec(3), Buffer.from('junk'), await rec(9), await rec(4)]), 2)
  })
})
