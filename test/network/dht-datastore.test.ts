import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { Key } from 'interface-datastore'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { createNetworkNode, DhtDatastore, encodePresence, presenceKey, type NetworkNode } from '../../src/network/index.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loopbackInit } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

const record = (n: number): Key => new Key(`/dht/record/r${n}`)
const bytes = (n: number): Uint8Array => new Uint8Array(n)

async function keysUnder (ds: DhtDatastore, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const k of ds.queryKeys({ prefix })) out.push(k.toString())
  return out.sort()
}

describe('DhtDatastore', () => {
  test('keeps at most maxRecords: the least recently stored go first, and storing one again makes it new', async () => {
    const ds = new DhtDatastore({ maxRecords: 3 })
    for (const n of [1, 2, 3]) await ds.put(record(n), bytes(10))
    await ds.put(record(1), bytes(10)) // stored again: now the newest
    await ds.put(record(4), bytes(10))
    assert.deepEqual(await keysUnder(ds, '/dht/record'), ['/dht/record/r1', '/dht/record/r3', '/dht/record/r4'])
    assert.deepEqual(ds.recordUsage, { records: 3, bytes: 30 })
    await ds.delete(record(3))
    assert.deepEqual(ds.recordUsage, { records: 2, bytes: 20 })
  })

  test('keeps at most maxRecordBytes, and drops what was not stored again within maxRecordAgeMs', async () => {
    let now = 1_000_000
    const ds = new DhtDatastore({ maxRecordBytes: 100, maxRecordAgeMs: 60_000 }, () => now)
    await ds.put(record(1), bytes(60))
    await ds.put(record(2), bytes(30))
    await ds.put(record(3), bytes(30)) // 120 bytes: r1 goes
    assert.deepEqual(await keysUnder(ds, '/dht/record'), ['/dht/record/r2', '/dht/record/r3'])
    now += 30_000
    await ds.put(record(3), bytes(30))
    now += 40_000 // r2 is 70 s old, r3 40 s
    await ds.put(record(4), bytes(1))
    assert.deepEqual(await keysUnder(ds, '/dht/record'), ['/dht/record/r3', '/dht/record/r4'])
    assert.deepEqual(ds.recordUsage, { records: 2, bytes: 31 })
  })

  test('provider records are not kept; the peer store\'s keys are neither counted nor limited', async () => {
    const ds = new DhtDatastore({ maxRecords: 1 })
    await ds.put(new Key('/dht/provider/abc/def'), bytes(10))
    assert.equal(await ds.has(new Key('/dht/provider/abc/def')), false)
    for (let n = 0; n < 5; n++) await ds.put(new Key(`/peers/p${n}`), bytes(10))
    assert.equal((await keysUnder(ds, '/peers')).length, 5)
    assert.deepEqual(ds.recordUsage, { records: 0, bytes: 0 })
  })

  test('peer records are counted with their bytes and listed least recently stored first; every value is kept as a copy of its own', async () => {
    const ds = new DhtDatastore()
    const stored: Array<[number, number]> = []
    ds.onPeerStored = () => { stored.push([ds.peerCount, ds.peerBytes]) }
    for (const n of [1, 2, 3]) await ds.put(new Key(`/peers/p${n}`), bytes(10))
    await ds.put(new Key('/peers/p1'), bytes(25)) // stored again, larger: listed last, not new
    assert.deepEqual(stored, [[1, 10], [2, 20], [3, 30], [3, 45]])
    const listed: string[] = []
    for await (const { key } of ds.query({ prefix: '/peers' })) listed.push(key.toString())
    assert.deepEqual(listed, ['/peers/p2', '/peers/p3', '/peers/p1'])
    await ds.delete(new Key('/peers/p2'))
    await ds.delete(new Key('/peers/p2')) // not held: not counted twice
    assert.equal(ds.peerCount, 2)
    assert.equal(ds.peerBytes, 35)

    // a view into a larger buffer, as libp2p's encoders hand over: only its own bytes are kept
    const pool = new Uint8Array(65536)
    const view = pool.subarray(100, 290)
    view.fill(7)
    for (const key of [new Key('/peers/p9'), new Key('/dht/record/r9'), new Key('/other/o9')]) {
      await ds.put(key, view)
      const kept = await ds.get(key)
      assert.equal(kept.buffer.byteLength, 190, `${key.toString()} keeps its own 190 bytes`)
      assert.deepEqual(kept, view)
    }
  })
})

/**
 * A DHT server told by a peer to store presence records of fresh keys, and
 * provider records, keeps no more than its limits: what a security review's
 * flood grew by ~1 GB stays bounded. Real nodes, real kad-dht requests.
 */
describe('a DHT server flooded with records', () => {
  const nodes: NetworkNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  test('holds at most its limit of records, the newest of them, and none of the providers', async () => {
    const store = new DhtDatastore({ maxRecords: 5 })
    const server = await createNetworkNode({ privateKey: await generateKeyPair('Ed25519'), datastore: store }, loopbackInit())
    const client = await createNetworkNode({ privateKey: await generateKeyPair('Ed25519') }, loopbackInit())
    nodes.push(server, client)
    await client.dial(server.getMultiaddrs()[0])
    await waitFor('the server in the client\'s routing table', async () => {
      for await (const e of client.services.dht.getClosestPeers(new Uint8Array(32), { signal: AbortSignal.timeout(5000) })) if (e.name === 'FINAL_PEER') return true
      return undefined
    })
    const keys: Uint8Array[] = []
    for (let i = 0; i < 12; i++) {
      const key = await generateKeyPair('Ed25519')
      const value = await encodePresence(key, { addresses: [], seq: 1, expires: Date.now() + 3600_000, online: false })
      keys.push(presenceKey(peerIdFromPrivateKey(key)))
      for await (const e of client.services.dht.put(keys[i], value, { signal: AbortSignal.timeout(10_000) })) void e
    }
    // the client keeps its own copies; the server, only five
    await waitFor('the server to have stored the last record', () => store.recordUsage.records === 5 ? true : undefined)
    const cid = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode('anything')))
    for await (const e of client.services.dht.provide(cid, { signal: AbortSignal.timeout(10_000) })) void e
    assert.deepEqual(await keysUnder(store, '/dht/provider'), [])
    assert.equal(store.recordUsage.records, 5)
    const held = await Promise.all(keys.map(async k => await store.has(new Key(`/dht/record/${uint8ArrayToString(k, 'base32')}`, false))))
    assert.deepEqual(held, [...Array(7).fill(false), ...Array(5).fill(true)], 'the five stored last')
  })
})
