import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { NetworkNode, PresenceRecord, PresenceResolver } from '../../src/network/index.js'
import { PresenceTracker } from '../../src/daemon/presence-tracker.js'
import type { Contact } from '../../src/contacts/index.js'

type DialTarget = PeerId | Multiaddr | Multiaddr[]

/**
 * The node as the tracker sees it, driven by the test: which connections
 * are open, the events libp2p fires (in its order: peer:connect before the
 * dial that opened the connection returns), and whether a dial answers.
 */
class FakeNode extends EventTarget {
  private open = new Set<string>()
  readonly dials: DialTarget[] = []
  answers = false
  constructor (private readonly peer: PeerId) { super() }

  getConnections (peerId?: PeerId): unknown[] {
    return [...this.open].filter(id => peerId == null || peerId.toString() === id)
      .map(() => ({ remotePeer: this.peer, status: 'open', direction: 'outbound', remoteAddr: multiaddr('/ip4/10.0.0.2/tcp/4001'), timeline: { open: Date.now() } }))
  }

  async dial (target: DialTarget): Promise<unknown> {
    this.dials.push(target)
    if (!this.answers) throw new Error('connect ECONNREFUSED')
    this.connect()
    return { remotePeer: this.peer }
  }

  connect (): void {
    this.open.add(this.peer.toString())
    this.dispatchEvent(new CustomEvent('peer:connect', { detail: this.peer }))
  }

  identify (addresses: string[]): void {
    this.dispatchEvent(new CustomEvent('peer:identify', { detail: { peerId: this.peer, listenAddrs: addresses.map(a => multiaddr(a)) } }))
  }

  lose (): void {
    this.open.delete(this.peer.toString())
    this.dispatchEvent(new CustomEvent('peer:disconnect', { detail: this.peer }))
  }
}

/** A DHT that holds one record of bob's, found by every lookup and cached as the resolver does. */
class FakeResolver {
  record?: PresenceRecord
  private cache?: PresenceRecord
  async lookup (): Promise<PresenceRecord | undefined> { this.cache = this.record; return this.record }
  cached (): PresenceRecord | undefined { return this.cache }
  invalidate (): void { this.cache = undefined }
}

async function setUp (): Promise<{ node: FakeNode, resolver: FakeResolver, tracker: PresenceTracker, bob: Contact, record: (seq: number, online: boolean, addresses?: string[]) => PresenceRecord }> {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key)
  const node = new FakeNode(peerId)
  const resolver = new FakeResolver()
  const bob: Contact = { name: 'bob', userId: '', peerId: peerId.toString(), fingerprint: '', verified: false, addedAt: 0 }
  const tracker = new PresenceTracker({ node: node as unknown as NetworkNode, resolver: resolver as unknown as PresenceResolver, isContact: (id) => id === bob.peerId })
  tracker.start()
  const record = (seq: number, online: boolean, addresses: string[] = []): PresenceRecord => ({ publicKey: key.publicKey, peerId, seq, online, addresses, expires: Date.now() + 3_600_000 })
  return { node, resolver, tracker, bob, record }
}

describe('presence tracker: what a lost contact\'s record is worth', () => {
  test('a sign-off from before the connection is dialled at the addresses bob last gave; no answer: unreachable', async () => {
    const { node, resolver, tracker, bob, record } = await setUp()
    resolver.record = record(Date.now() + 3_600_000, false) // his clock an hour ahead: only the seq seen before tells
    await tracker.snapshot([bob]) // alice looks him up: signed off
    node.connect()
    node.identify(['/ip4/10.0.0.2/tcp/4001'])
    node.lose()
    const [seen] = await tracker.snapshot([bob])
    assert.equal(seen.presence, 'unreachable')
    assert.deepEqual(node.dials.map(String), [`/ip4/10.0.0.2/tcp/4001/p2p/${bob.peerId}`])
  })

  test('the same, and bob answers: online, through the connection the dial opened', async () => {
    const { node, resolver, tracker, bob, record } = await setUp()
    resolver.record = record(Date.now() - 60_000, false)
    node.connect()
    node.lose() // he never said where he listens: the peer store is asked, by his peer ID
    node.answers = true
    const [seen] = await tracker.snapshot([bob])
    assert.deepEqual([seen.presence, seen.source], ['online', 'connection'])
    assert.equal(String(node.dials[0]), bob.peerId)
  })

  test('a sign-off published after the connection opened is believed, without a dial', async () => {
    const { node, resolver, tracker, bob, record } = await setUp()
    node.connect()
    resolver.record = record(Date.now() + 1, false)
    node.lose()
    assert.equal((await tracker.snapshot([bob]))[0].presence, 'offline')
    assert.equal(node.dials.length, 0)
  })

  test('an answer before a later loss is forgotten: lost again, he is unreachable, not online', async () => {
    const { node, resolver, tracker, bob, record } = await setUp()
    resolver.record = record(Date.now() - 60_000, true, ['/ip4/10.0.0.2/tcp/4001'])
    node.connect()
    node.lose()
    node.answers = true
    assert.equal((await tracker.snapshot([bob]))[0].presence, 'online') // the dial answered
    node.answers = false
    node.lose()
    resolver.record = record(Date.now() - 60_000, true) // online, but no address to dial
    assert.equal((await tracker.snapshot([bob]))[0].presence, 'unreachable')
  })

  test('a contact hung up on here is not lost: his old sign-off is believed', async () => {
    const { node, resolver, tracker, bob, record } = await setUp()
    resolver.record = record(Date.now() - 60_000, false)
    node.connect()
    tracker.lost.hangingUp(resolver.record.peerId)
    node.lose()
    assert.equal((await tracker.snapshot([bob]))[0].presence, 'offline')
    assert.equal(node.dials.length, 0)
  })
})
