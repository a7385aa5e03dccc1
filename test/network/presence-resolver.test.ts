import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { ADDRESSLESS_CACHE_MS, EARLY_QUORUM, encodePresence, PresenceResolver, type NetworkNode } from '../../src/network/index.js'
import { waitFor } from '../helpers/wait.js'

type Answer = { name: 'PEER_RESPONSE', record?: { value: Uint8Array } } | { name: 'VALUE', value: Uint8Array }

/**
 * A DHT whose query yields the given answers and then, like a query still
 * waiting on a slow peer, hangs until aborted (or ends, when `ends`).
 */
function scriptedDht (answers: Answer[], ends: boolean): { node: NetworkNode, state: { aborted: boolean, finished: boolean } } {
  const state = { aborted: false, finished: false }
  const get = async function * (_key: Uint8Array, options: { signal: AbortSignal }): AsyncGenerator<Answer & { from: unknown }> {
    try {
      for (const a of answers) yield { ...a, from: 'peer' }
      if (ends) return
      await new Promise<void>((resolve) => { options.signal.addEventListener('abort', () => { resolve() }) })
    } finally {
      state.aborted = options.signal.aborted
      state.finished = true
    }
  }
  return { node: { services: { dht: { get } } } as unknown as NetworkNode, state }
}

async function record (key: PrivateKey, seq: number): Promise<Uint8Array> {
  return await encodePresence(key, { addresses: [`/ip4/127.0.0.1/tcp/${1000 + seq}`], seq, expires: Date.now() + 60_000, online: true })
}

describe('presence resolver: early quorum', () => {
  test(`a lookup ends after ${EARLY_QUORUM} valid answers, takes the newest, and stops the query`, async () => {
    const key = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const answers: Answer[] = [
      { name: 'PEER_RESPONSE' }, // a peer with closer peers but no record
      { name: 'PEER_RESPONSE', record: { value: await record(key, 1) } },
      { name: 'PEER_RESPONSE', record: { value: Buffer.from('{"v":1,"payload":"x"') } }, // truncated: not counted
      { name: 'PEER_RESPONSE', record: { value: await record(other, 9) } }, // someone else's record: not counted
      { name: 'PEER_RESPONSE', record: { value: await record(key, 3) } },
      { name: 'PEER_RESPONSE', record: { value: await record(key, 2) } }
    ]
    const { node, state } = scriptedDht(answers, false)
    const resolver = new PresenceResolver({ node }, { lookupTimeoutMs: 60_000 })
    const r = await resolver.lookup(peerIdFromPrivateKey(key))
    assert.equal(r?.seq, 3, 'the newest of the answers')
    assert.ok(state.finished, 'the DHT query was closed, not left running')
  })

  test('a fresh lookup (after a failed dial) waits for the whole query', async () => {
    const key = await generateKeyPair('Ed25519')
    const answers: Answer[] = [1, 2, 3].map(() => ({ name: 'PEER_RESPONSE' as const, record: { value: new Uint8Array() } }))
    for (let seq = 1; seq <= EARLY_QUORUM; seq++) answers[seq - 1] = { name: 'PEER_RESPONSE', record: { value: await record(key, seq) } }
    // the last, slowest replica holds the newest record
    answers.push({ name: 'VALUE', value: await record(key, 7) })
    const early = await new PresenceResolver({ node: scriptedDht(answers, true).node }).lookup(peerIdFromPrivateKey(key))
    assert.equal(early?.seq, EARLY_QUORUM)
    const { node, state } = scriptedDht(answers, true)
    const fresh = await new PresenceResolver({ node }).lookup(peerIdFromPrivateKey(key), { fresh: true })
    assert.equal(fresh?.seq, 7)
    assert.ok(state.finished && !state.aborted, 'the query ran to its end')
  })

  test('a lookup that finds fewer answers than the quorum returns the best at the end of the query', async () => {
    const key = await generateKeyPair('Ed25519')
    const { node } = scriptedDht([{ name: 'PEER_RESPONSE', record: { value: await record(key, 4) } }], true)
    assert.equal((await new PresenceResolver({ node }).lookup(peerIdFromPrivateKey(key)))?.seq, 4)
    const none = scriptedDht([{ name: 'PEER_RESPONSE' }], true)
    assert.equal(await new PresenceResolver({ node: none.node }).lookup(peerIdFromPrivateKey(key)), undefined)
  })
})

describe('presence resolver: first record, and callers that give up', () => {
  test('the first valid record is handed over before the quorum, also to a lookup that joins later', async () => {
    const key = await generateKeyPair('Ed25519')
    const answers: Answer[] = [
      { name: 'PEER_RESPONSE', record: { value: Buffer.from('not a record') } },
      { name: 'PEER_RESPONSE', record: { value: await record(key, 5) } }
    ]
    const { node, state } = scriptedDht(answers, false)
    const resolver = new PresenceResolver({ node }, { lookupTimeoutMs: 60_000 })
    const peer = peerIdFromPrivateKey(key)
    const stopFirst = new AbortController()
    const firsts: number[] = []
    const handed = new Promise<void>((resolve) => {
      void resolver.lookup(peer, { signal: stopFirst.signal, onFirstRecord: (r) => { firsts.push(r.seq); resolve() } })
    })
    await handed
    assert.deepEqual(firsts, [5], 'the valid record, once, while the query still waits for its quorum')
    const stopSecond = new AbortController()
    const second = resolver.lookup(peer, { signal: stopSecond.signal, onFirstRecord: (r) => { firsts.push(r.seq) } })
    assert.deepEqual(firsts, [5, 5], 'a lookup joining the query gets the record it already has, at once')
    assert.equal(state.finished, false)
    stopSecond.abort()
    assert.equal(await second, undefined, 'a caller that gives up gets what is cached: nothing yet')
    assert.equal(state.finished, false, 'the query goes on while another caller waits')
    stopFirst.abort()
    await waitFor('the query to stop once no caller waits', () => state.finished, 5000, 5)
    assert.ok(state.aborted, 'stopped, not finished by itself')
    assert.equal(resolver.cached(peer)?.seq, 5, 'what it found is cached for the next connect')
  })
})

describe('presence resolver: the cache', () => {
  test(`a lookup answers an "online, no address yet" record from the cache for ${ADDRESSLESS_CACHE_MS / 1000} s, then asks the DHT again; status still sees it cached`, async () => {
    const key = await generateKeyPair('Ed25519')
    const peer = peerIdFromPrivateKey(key)
    const bare = await encodePresence(key, { addresses: [], seq: 1, expires: Date.now() + 3600_000, online: true })
    let now = Date.now()
    let answers: Answer[] = [{ name: 'VALUE', value: bare }]
    let queries = 0
    const get = async function * (): AsyncGenerator<Answer & { from: unknown }> {
      queries++
      for (const a of answers) yield { ...a, from: 'peer' }
    }
    const resolver = new PresenceResolver({ node: { services: { dht: { get } } } as unknown as NetworkNode }, { now: () => now })
    assert.equal((await resolver.lookup(peer))?.seq, 1)
    assert.equal((await resolver.lookup(peer))?.seq, 1)
    assert.equal(queries, 1, 'answered from the cache for a moment')
    now += ADDRESSLESS_CACHE_MS
    assert.equal(resolver.cached(peer)?.seq, 1, 'still cached: status shows the user online')
    answers = [{ name: 'VALUE', value: await record(key, 2) }] // his relay address, published since
    assert.equal((await resolver.lookup(peer))?.seq, 2, 'a lookup asked the DHT again')
    assert.equal(queries, 2)
    now += 50_000
    assert.equal((await resolver.lookup(peer))?.seq, 2)
    assert.equal(queries, 2, 'a record with addresses is answered from the cache until it expires')
  })
})
