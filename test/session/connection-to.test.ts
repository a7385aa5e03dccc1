import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { LookupOptions, NetworkNode, PresenceRecord, PresenceResolver } from '../../src/network/index.js'
import { connectionTo, type LostPeers } from '../../src/session/connection-to.js'
import { createLoopbackNode, createLoopbackPair } from '../helpers/nodes.js'

/**
 * A presence lookup that never reaches its quorum: it hands over bob's
 * record as its first (if `first`), then waits until its caller stops it.
 */
function endlessLookup (bob: NetworkNode, first: boolean): { resolver: PresenceResolver } {
  const record: PresenceRecord = {
    publicKey: bob.peerId.publicKey as PresenceRecord['publicKey'],
    peerId: bob.peerId,
    addresses: bob.getMultiaddrs().map(a => a.toString().split('/p2p/')[0]),
    seq: 1,
    expires: Date.now() + 60_000,
    online: true
  }
  const lookup = async (_peer: PeerId, options: LookupOptions = {}): Promise<PresenceRecord | undefined> => {
    if (first) options.onFirstRecord?.(record)
    await new Promise<void>((resolve) => { options.signal?.addEventListener('abort', () => { resolve() }) })
    return undefined
  }
  return { resolver: { lookup, invalidate: () => {} } as unknown as PresenceResolver }
}

describe('connectionTo: a first contact does not wait for the whole lookup', () => {
  const nodes: NetworkNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => await n.stop())) })

  test('the first record is dialled at once, while the lookup goes on', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver } = endlessLookup(bob, true)
    const conn = await connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000))
    assert.ok(conn.remotePeer.equals(bob.peerId))
    assert.equal(conn.status, 'open')
  })

  test('a connection to the user that opens meanwhile, whoever opened it, is taken', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver } = endlessLookup(bob, false)
    const connecting = connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000))
    // as the lookup's DHT query would: bob is one of the peers it asks
    const byOthers = await alice.dial(bob.getMultiaddrs())
    const conn = await connecting
    assert.equal(conn.id, byOthers.id, 'the connection that opened, not a second one')
  })

  test('without a record or a connection, the connect fails when its signal ends', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver } = endlessLookup(bob, false)
    // alone on the network, no record could be found: that is what it says
    await assert.rejects(connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(300)), /this daemon is not connected to the network/)
    // with a peer (not bob), the lookup's answer stands
    const other = await createLoopbackNode()
    nodes.push(other)
    await alice.dial(other.getMultiaddrs()[0])
    await assert.rejects(connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(300)), /no presence record/)
  })
})

describe('connectionTo: a sign-off older than the connection lost to the user', () => {
  const nodes: NetworkNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => await n.stop())) })

  /** A DHT whose newest record of bob is his sign-off (seq 1), and what the daemon remembers of him. */
  function signedOff (bob: NetworkNode, stale: boolean): { resolver: PresenceResolver, lost: LostPeers } {
    const record: PresenceRecord = { publicKey: bob.peerId.publicKey as PresenceRecord['publicKey'], peerId: bob.peerId, addresses: [], seq: 1, expires: Date.now() + 60_000, online: false }
    const resolver = { lookup: async () => record, invalidate: () => {} } as unknown as PresenceResolver
    const listened = bob.getMultiaddrs()
    const lost: LostPeers = { predates: (id, r) => stale && id === bob.peerId.toString() && r === record, lastAddresses: () => listened, hangingUp: () => {} }
    return { resolver, lost }
  }

  test('bob came back, but his new record has not got through: he is reached where he last listened', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver, lost } = signedOff(bob, true)
    const conn = await connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000), lost)
    assert.ok(conn.remotePeer.equals(bob.peerId))
  })

  test('not there: unreachable, with why, not "offline" with the time of the old sign-off', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice)
    const { resolver, lost } = signedOff(bob, true)
    await bob.stop()
    await assert.rejects(connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000), lost),
      (err: Error & { code?: string }) => err.code === 'USER_UNREACHABLE' && /the connection to them was lost, and they do not answer where they last listened/.test(err.message))
  })

  test('not where he last listened, but the DHT asked again has his new record: he is reached there', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver: first, lost } = signedOff(bob, true)
    const moved: PresenceRecord = { ...(await first.lookup(bob.peerId))!, seq: 2, online: true, addresses: bob.getMultiaddrs().map(a => a.toString().split('/p2p/')[0]) }
    const lookups: LookupOptions[] = []
    const resolver = {
      lookup: async (_peer: PeerId, options: LookupOptions = {}) => { lookups.push(options); return options.fresh === true && lookups.length > 1 ? moved : await first.lookup(bob.peerId) },
      invalidate: () => {}
    } as unknown as PresenceResolver
    const nowhere: LostPeers = { predates: lost.predates, lastAddresses: () => [multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${bob.peerId.toString()}`)], hangingUp: () => {} }
    const conn = await connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000), nowhere)
    assert.ok(conn.remotePeer.equals(bob.peerId))
    assert.equal(lookups.length, 2, 'asked again once')
  })

  test('a sign-off that is news (after the connection, or no connection lost) is believed, without a dial', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver, lost } = signedOff(bob, false)
    await assert.rejects(connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000), lost), /bob is offline/)
    assert.equal(alice.getConnections(bob.peerId).length, 0)
  })
})

describe('connectionTo: online, with no address yet (behind a NAT, before a router slot)', () => {
  const nodes: NetworkNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => await n.stop())) })

  /** Bob's record with no address (seq 1), and what a fresh lookup of the DHT finds (or does). */
  function addressless (bob: NetworkNode, fresh: (options: LookupOptions) => Promise<PresenceRecord | undefined>): { resolver: PresenceResolver, lookups: LookupOptions[], bare: PresenceRecord } {
    const bare: PresenceRecord = { publicKey: bob.peerId.publicKey as PresenceRecord['publicKey'], peerId: bob.peerId, addresses: [], seq: 1, expires: Date.now() + 60_000, online: true }
    const lookups: LookupOptions[] = []
    const resolver = {
      lookup: async (_peer: PeerId, options: LookupOptions = {}) => { lookups.push(options); return options.fresh === true ? await fresh(options) : bare },
      invalidate: () => {}
    } as unknown as PresenceResolver
    return { resolver, lookups, bare }
  }
  const addressesOf = (n: NetworkNode): string[] => n.getMultiaddrs().map(a => a.toString().split('/p2p/')[0])

  test('the DHT is asked again once: a newer record with his relay address is dialled', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver, lookups, bare } = addressless(bob, async () => ({ ...bare, seq: 2, addresses: addressesOf(bob) }))
    const conn = await connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000))
    assert.ok(conn.remotePeer.equals(bob.peerId))
    assert.deepEqual(lookups.map(l => l.fresh === true), [false, true])
  })

  test('nothing newer, an older record, or nothing found: "no address yet", not "offline", and no dial of old addresses', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    for (const found of ['same', 'older', 'none'] as const) {
      const { resolver, lookups, bare } = addressless(bob, async () => found === 'same' ? bare : found === 'older' ? { ...bare, seq: 0, addresses: addressesOf(bob) } : undefined)
      await assert.rejects(connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(10_000)),
        (err: Error & { code?: string }) => err.code === 'USER_UNREACHABLE' && /online but have published no address yet/.test(err.message), found)
      assert.equal(lookups.length, 2, `asked again once (${found})`)
      assert.equal(alice.getConnections(bob.peerId).length, 0, `no dial (${found})`)
    }
  })

  test('the connect deadline ending the fresh lookup says "timed out"', async () => {
    const [alice, bob] = await createLoopbackPair()
    nodes.push(alice, bob)
    const { resolver } = addressless(bob, async (options) => {
      await new Promise<void>((resolve) => { options.signal?.addEventListener('abort', () => { resolve() }) })
      return undefined
    })
    await assert.rejects(connectionTo(alice, resolver, { peerId: bob.peerId, label: 'bob' }, AbortSignal.timeout(500)),
      (err: Error & { code?: string }) => err.code === 'USER_UNREACHABLE' && /timed out/.test(err.message))
  })
})
