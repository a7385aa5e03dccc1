import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { PresencePublisher, PresenceResolver, type NetworkNode } from '../../src/network/index.js'
import { PresenceTracker, type ContactPresence } from '../../src/daemon/presence-tracker.js'
import type { Contact } from '../../src/contacts/index.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

/**
 * What alice's status says about bob as his daemon comes and goes, over
 * real TCP between in-process nodes: a router, alice (the tracker), and bob,
 * who is three nodes in turn with the same key (one daemon restarted).
 */
describe('presence tracker: a contact whose connection was lost', () => {
  const nodes: NetworkNode[] = []
  let bootstrap: string[]
  let alice: NetworkNode
  let tracker: PresenceTracker
  let bobKey: PrivateKey
  let bob: Contact
  let savedSeq = 0
  let bobPort = 0

  before(async () => {
    const router = await createLoopbackNode({ router: true })
    nodes.push(router)
    bootstrap = [router.getMultiaddrs()[0].toString()]
    alice = await createLoopbackNode({ bootstrap })
    nodes.push(alice)
    bobKey = await generateKeyPair('Ed25519')
    const bobNode = await createLoopbackNode({ bootstrap }, bobKey) // only to know his peer ID
    bob = { name: 'bob', userId: '', peerId: bobNode.peerId.toString(), fingerprint: '', verified: false, addedAt: 0 }
    await bobNode.stop()
    tracker = new PresenceTracker({ node: alice, resolver: new PresenceResolver({ node: alice }), isContact: (id) => id === bob.peerId })
    tracker.start()
  })

  after(async () => {
    tracker.stop()
    await Promise.all(nodes.map(async n => await n.stop()))
  })

  /** Bob's daemon, connected to alice unless `alone` (then no bootstrap either: he dials no one). */
  async function startBob (port = 0, alone = false): Promise<NetworkNode> {
    const node = await createLoopbackNode({ bootstrap: alone ? [] : bootstrap, listen: [`/ip4/127.0.0.1/tcp/${port}`] }, bobKey)
    nodes.push(node)
    if (!alone) await node.dial(alice.getMultiaddrs())
    return node
  }

  function publisherOf (node: NetworkNode): PresencePublisher {
    return new PresencePublisher({ node, privateKey: bobKey, sequence: { load: () => savedSeq, save: (s) => { savedSeq = s } } }, { ttlSeconds: 3600, allowPrivateAddresses: true })
  }

  async function bobIn (snapshot: () => Promise<ContactPresence>, presence: string): Promise<ContactPresence> {
    let seen: ContactPresence | undefined
    return await waitFor(`bob ${presence}`, async () => {
      seen = await snapshot()
      return seen.presence === presence ? seen : undefined
    }, 20_000, 200).catch((err: Error) => { throw new Error(`${err.message}; last seen: ${JSON.stringify(seen)}`) })
  }
  const status = async (): Promise<ContactPresence> => (await tracker.snapshot([bob]))[0]

  test('a clean sign-off, published after the connection opened, shows offline', async () => {
    const node = await startBob()
    const publisher = publisherOf(node)
    publisher.start()
    await waitFor('bob\'s online record published', () => (publisher.last?.peers ?? 0) > 0)
    assert.equal((await bobIn(status, 'online')).source, 'connection')
    await publisher.stop()
    await node.stop()
    const seen = await bobIn(status, 'offline')
    assert.equal(seen.source, 'dht', 'from his signed-off record, not from no record at all')
  })

  test('back without his new record reaching the DHT, then killed: unreachable, not his old sign-off', async () => {
    // as a daemon killed before its first publication got through: what the DHT holds is the sign-off above
    const node = await startBob()
    bobPort = Number(node.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    assert.equal((await bobIn(status, 'online')).source, 'connection')
    await node.stop() // from alice's side, a connection lost: she did not hang up
    const seen = await bobIn(status, 'unreachable')
    assert.equal(seen.source, 'dht')
  })

  test('back at the address last known: the next check reaches him, and he is online, not stuck unreachable', async () => {
    // alone: he dials no one, so the connection is alice's (the check's dial, or its DHT query's)
    const node = await startBob(bobPort, true)
    assert.equal((await bobIn(status, 'online')).source, 'connection')
    assert.equal(node.getConnections(alice.peerId)[0]?.direction, 'inbound', 'alice dialled him')
  })
})
