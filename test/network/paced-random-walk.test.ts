import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerInfo, PeerRouting } from '@libp2p/interface'
import { FIRST_PAUSE_MS, MAX_PAUSE_MS, PacedRandomWalk } from '../../src/network/paced-random-walk.js'
import { createLoopbackNode } from '../helpers/nodes.js'

test('the walk pauses between DHT queries, doubling to a minute, and ends when its signal aborts', async () => {
  const peer: PeerInfo = { id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')), multiaddrs: [] }
  let queries = 0
  // a small network: every query ends at once, which libp2p's walk repeated back to back
  const peerRouting = { getClosestPeers: async function * () { queries++; yield peer } } as unknown as PeerRouting
  const pauses: number[] = []
  const stop = new AbortController()
  const walk = new PacedRandomWalk({ peerRouting }, {
    pause: async (ms) => {
      pauses.push(ms)
      if (pauses.length === 8) stop.abort()
      return !stop.signal.aborted
    }
  })
  const found: PeerInfo[] = []
  for await (const p of walk.walk({ signal: stop.signal })) found.push(p)
  assert.equal(queries, 8)
  assert.equal(found.length, 8)
  assert.deepEqual(pauses, [FIRST_PAUSE_MS, 4000, 8000, 16000, 32000, MAX_PAUSE_MS, MAX_PAUSE_MS, MAX_PAUSE_MS])
})

test('a failing query is paced too, and an abort during one ends the walk quietly', async () => {
  let queries = 0
  const stop = new AbortController()
  const peerRouting = {
    getClosestPeers: async function * (_key: Uint8Array, options: { signal: AbortSignal }) {
      queries++
      if (queries === 3) {
        stop.abort()
        options.signal.throwIfAborted()
      }
      throw new Error('no peers')
    }
  } as unknown as PeerRouting
  const pauses: number[] = []
  const walk = new PacedRandomWalk({ peerRouting }, { pause: async (ms) => { pauses.push(ms); return true } })
  for await (const _ of walk.walk({ signal: stop.signal })) assert.fail('nothing found')
  assert.equal(queries, 3)
  assert.deepEqual(pauses, [FIRST_PAUSE_MS, 4000])
})

test('a cspace node\'s circuit-relay transport walks with PacedRandomWalk, not libp2p\'s', async () => {
  const node = await createLoopbackNode()
  try {
    // libp2p keeps its components and transports to itself: read them as the transport does
    const transports = (node as unknown as { components: { transportManager: { getTransports: () => Array<{ [Symbol.toStringTag]: string, components?: { randomWalk: unknown } }> } } }).components.transportManager.getTransports()
    const relay = transports.find(t => t[Symbol.toStringTag] === '@libp2p/circuit-relay-v2-transport')
    assert.ok(relay != null, 'a circuit-relay transport')
    assert.ok(relay.components?.randomWalk instanceof PacedRandomWalk)
  } finally {
    await node.stop()
  }
})
