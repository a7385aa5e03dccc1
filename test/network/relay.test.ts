import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { peerMap } from '@libp2p/peer-collections'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { pbStream } from '@libp2p/utils'
import { DEFAULT_RELAY_LIMITS, RelayReservationGate } from '../../src/network/relay.js'
import { isRelayed } from '../../src/network/addresses.js'
import type { NetworkNode } from '../../src/network/index.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

async function newPeer (): Promise<PeerId> {
  return peerIdFromPublicKey((await generateKeyPair('Ed25519')).publicKey)
}

/**
 * The per-IP slot cap that libp2p's relay server lacks. The gate is asked
 * before each reservation; here it sees a router whose connections and
 * reservations the test sets up.
 */
describe('relay slots per IP', () => {
  async function router (maxPerIp: number, connectedFrom: Map<PeerId, string>): Promise<{ gate: RelayReservationGate, reserve: (peer: PeerId) => Promise<boolean> }> {
    const reservations = peerMap<unknown>()
    const gate = new RelayReservationGate(maxPerIp)
    gate.attach({
      services: { relay: { reservations } },
      getConnections: (peer: PeerId) => [...connectedFrom].filter(([p]) => p.equals(peer)).map(([, addr]) => ({ status: 'open', remoteAddr: multiaddr(addr) }))
    } as never)
    return {
      gate,
      // what the relay server does: ask the gater, then store the reservation
      reserve: async (peer) => {
        if ((await gate.gater.denyInboundRelayReservation?.(peer)) === true) return false
        reservations.set(peer, {})
        return true
      }
    }
  }

  // three users from one source, then one from another: an IPv4 address, or an IPv6 /64 (three addresses in it)
  const sources = [
    { source: 'IP', addrs: ['/ip4/5.0.0.21/tcp/40001', '/ip4/5.0.0.21/tcp/40002', '/ip4/5.0.0.21/tcp/40003', '/ip4/5.0.0.22/tcp/40001'] },
    { source: 'IPv6 /64', addrs: ['/ip6/2001:db8:5:1::a/tcp/40001', '/ip6/2001:db8:5:1:ffff::b/tcp/40001', '/ip6/2001:db8:5:1:1:2:3:4/tcp/40001', '/ip6/2001:db8:5:2::a/tcp/40001'] }
  ]
  for (const { source, addrs } of sources) {
    test(`the (N+1)th user behind one ${source} is refused; another ${source} and renewals are not`, async () => {
      const [a, b, c, d] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()])
      const r = await router(2, new Map<PeerId, string>([[a, addrs[0]], [b, addrs[1]], [c, addrs[2]], [d, addrs[3]]]))
      assert.equal(await r.reserve(a), true)
      assert.equal(await r.reserve(b), true)
      assert.equal(await r.reserve(c), false, `a third slot from ${addrs[2]}`)
      assert.equal(await r.reserve(d), true, `another ${source}`)
      assert.equal(await r.reserve(a), true, 'renewing a slot it holds')
    })
  }

  test('a peer reached only through another relay, or not connected, is not counted against an IP', async () => {
    const [a, b] = await Promise.all([newPeer(), newPeer()])
    const relayPeer = (await newPeer()).toString()
    const from = new Map<PeerId, string>([
      [a, `/ip4/5.0.0.11/tcp/4001/p2p/${relayPeer}/p2p-circuit`]
    ])
    const r = await router(1, from)
    assert.equal(await r.reserve(a), true)
    assert.equal(await r.reserve(b), true)
  })

  test('relayed connections per user: the (N+1)th open at once is refused, and allowed again once one ends', async () => {
    const [user, other] = await Promise.all([newPeer(), newPeer()])
    const hop = (status: string): object => ({ protocol: RELAY_V2_HOP_CODEC, status })
    const streams: object[] = []
    const gate = new RelayReservationGate(16, 2)
    gate.attach({
      services: {},
      getConnections: (peer: PeerId) => peer.equals(user) ? [{ status: 'open', remoteAddr: multiaddr('/ip4/5.0.0.21/tcp/1'), streams }] : []
    } as never)
    const ask = async (peer: PeerId): Promise<boolean> => (await gate.gater.denyOutboundRelayedConnection?.(peer, other)) !== true
    // each request arrives on a HOP stream of its own, open while it is asked
    streams.push(hop('open'))
    assert.equal(await ask(user), true, 'first')
    streams.push(hop('open'))
    assert.equal(await ask(user), true, 'second')
    streams.push(hop('open'))
    assert.equal(await ask(user), false, 'third while two run')
    streams.pop()
    ;(streams[0] as { status: string }).status = 'closed'
    streams.push(hop('open'))
    assert.equal(await ask(user), true, 'after one ended')
    assert.equal(await ask(other), true, 'another user')
  })

  test('isRelayed tells relay addresses from direct ones', () => {
    assert.equal(isRelayed('/ip4/5.0.0.11/tcp/4001/p2p/12D3KooWA/p2p-circuit/p2p/12D3KooWB'), true)
    assert.equal(isRelayed('/ip4/5.0.0.11/tcp/4001/p2p/12D3KooWA'), false)
  })
})

/** libp2p's codec for HOP messages, which the package does not export. */
interface HopCodec {
  HopMessage: Parameters<ReturnType<typeof pbStream>['pb']>[0] & { Type: { RESERVE: string } }
}
const { HopMessage } = await import(new URL('pb/index.js', import.meta.resolve('@libp2p/circuit-relay-v2')).href) as HopCodec

describe('relay slots per IP, on a router', () => {
  const nodes: NetworkNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  /** A new user on 127.0.0.1 asks the router for a slot, then goes away; resolves with the router's answer. */
  async function reserveAndLeave (router: NetworkNode): Promise<string> {
    const user = await createLoopbackNode({ pingIntervalMs: 0 })
    try {
      const hop = pbStream(await user.dialProtocol(router.getMultiaddrs()[0], RELAY_V2_HOP_CODEC)).pb(HopMessage)
      await hop.write({ type: HopMessage.Type.RESERVE })
      return (await hop.read({ signal: AbortSignal.timeout(10_000) }) as { status: string }).status
    } finally {
      await user.stop()
      await waitFor('the router to see the user gone', () => router.getConnections(user.peerId).length === 0)
    }
  }

  test('users that reserve a slot and disconnect still count against their IP; the (N+1)th is refused', async () => {
    const router = await createLoopbackNode({ router: true, pingIntervalMs: 0, relayLimits: { ...DEFAULT_RELAY_LIMITS, maxReservationsPerIp: 2 } })
    nodes.push(router)
    assert.equal(await reserveAndLeave(router), 'OK')
    assert.equal(await reserveAndLeave(router), 'OK')
    // libp2p keeps a slot for its TTL after its holder leaves
    assert.equal(router.services.relay?.reservations.size, 2)
    assert.equal(await reserveAndLeave(router), 'PERMISSION_DENIED', 'a third slot from 127.0.0.1')
    assert.equal(router.services.relay?.reservations.size, 2)
  })
})
