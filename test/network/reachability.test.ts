import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import type { NetworkNode } from '../../src/network/index.js'
import { REACHABILITY_PROTOCOL, parseReachabilityAnswer, parseReachabilityRequest } from '../../src/network/index.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

function tcpPortOf (node: NetworkNode): number {
  return Number(node.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
}

/** The dial-back probe between a user's daemon and a router, in one process on loopback. */
describe('reachability: a router dials the asker back', () => {
  let router: NetworkNode
  let user: NetworkNode
  let other: NetworkNode

  before(async () => {
    router = await createLoopbackNode({ router: true })
    await router.start()
    user = await createLoopbackNode({ bootstrap: [router.getMultiaddrs()[0].toString()], relaySlots: 1 })
    other = await createLoopbackNode()
    await user.start()
    await other.start()
  })

  after(async () => {
    await Promise.all([user?.stop(), other?.stop(), router?.stop()])
  })

  /** One raw request to the router; its answer, parsed. */
  async function ask (request: Uint8Array): Promise<ReturnType<typeof parseReachabilityAnswer>> {
    // the router closes each dial-back connection before it answers; wait for
    // `other` to see that, or the next stream may be opened on the closing one
    await waitFor('dial-back connections gone', () => other.getConnections(router.peerId).length <= 1, 10_000, 20)
    const stream = await other.dialProtocol(router.getMultiaddrs()[0], REACHABILITY_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
    await lp.write(request)
    const answer = parseReachabilityAnswer(await lp.read({ signal: AbortSignal.timeout(20_000) }))
    await stream.close().catch(() => {})
    return answer
  }
  const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

  test('a user the router can dial back is public, its address confirmed; it takes no relay slot', async () => {
    const service = user.services.reachability
    assert.ok(service != null)
    await waitFor('the probe\'s answer', () => service.reachability !== 'unknown', 20_000)
    assert.equal(service.reachability, 'public')
    assert.deepEqual(service.confirmed, [`/ip4/127.0.0.1/tcp/${tcpPortOf(user)}`])
    assert.ok(!user.getMultiaddrs().some(a => a.toString().includes('/p2p-circuit')), 'no relay slot taken')
  })

  test('a port where someone else answers is not reported: the dial-back must prove the asker\'s key', async () => {
    // `other` asks about the user's port: the router reaches a node, but not `other`
    const answer = await ask(json({ v: 1, ports: [tcpPortOf(user), tcpPortOf(other)] }))
    assert.deepEqual(answer.reachable, [`/ip4/127.0.0.1/tcp/${tcpPortOf(other)}`])
  })

  test('malformed, oversized and wrong-version requests get a one-line refusal, and the router keeps serving', async () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('{'), /not JSON/],
      [json([1, 2]), /not an object/],
      [json({ v: 2, ports: [1] }), /unsupported version 2/],
      [json({ v: 1, ports: 'all' }), /"ports" must be a list/],
      [json({ v: 1, ports: [0] }), /"ports" must be a list/],
      [json({ v: 1, ports: Array.from({ length: 9 }, (_, i) => 1000 + i) }), /at most 8/],
      [json({ v: 1, ports: [1], pad: 'x'.repeat(2000) }), /./]
    ]
    for (const [request, why] of cases) {
      const answer = await ask(request)
      assert.deepEqual(answer.reachable, [])
      assert.match(answer.error ?? '', why)
      assert.ok(!(answer.error ?? '').includes('\n'))
    }
    const fine = await ask(json({ v: 1, ports: [tcpPortOf(other)] }))
    assert.deepEqual(fine.reachable, [`/ip4/127.0.0.1/tcp/${tcpPortOf(other)}`])
  })

  test('parsers: truncated and oversized messages are refused', () => {
    const bytes = (s: string): { subarray: () => Uint8Array } => ({ subarray: () => new TextEncoder().encode(s) })
    assert.throws(() => parseReachabilityRequest(bytes('{"v":1,"ports":[80')), /not JSON/)
    assert.throws(() => parseReachabilityAnswer(bytes('{"v":1,"reachable":["not an address"]}')))
    assert.throws(() => parseReachabilityAnswer(bytes(JSON.stringify({ v: 1, reachable: Array(9).fill('/ip4/1.2.3.4/tcp/1') }))), /"reachable"/)
    assert.deepEqual(parseReachabilityRequest(bytes('{"v":1,"ports":[80,80,443]}')).ports, [80, 443])
    assert.throws(() => parseReachabilityRequest(bytes(`{"v":${'['.repeat(500)}${']'.repeat(500)}}`)), /^Error: unsupported version \(a list\)$/)
    // a router's refusal ends up in the daemon's log: no escape sequences, one line
    assert.equal(parseReachabilityAnswer(bytes(JSON.stringify({ v: 1, reachable: [], error: '\u001b[2Jno\nway' }))).error, '?[2Jno?way')
  })

  describe('a peer that lies about reachability', () => {
    let liar: NetworkNode
    let asked = 0
    const lies = ['/ip4/203.0.113.9/tcp/25', '/dns4/evil.example/tcp/443']

    before(async () => {
      liar = await createLoopbackNode()
      // claims the routers' protocol, and vouches for addresses nobody asked about
      await liar.handle(REACHABILITY_PROTOCOL, async (stream) => {
        asked++
        const lp = lpStream(stream)
        await lp.read()
        await lp.write(json({ v: 1, reachable: lies }))
        await stream.close()
      })
    })
    after(async () => { await liar?.stop() })

    test('a peer that is not a bootstrap peer is never asked', async () => {
      const identified = new Promise<void>((resolve) => {
        user.addEventListener('peer:identify', (e) => { if (e.detail.peerId.equals(liar.peerId)) resolve() })
      })
      await user.dial(liar.getMultiaddrs()[0])
      // the service's own listener ran first: it saw the liar's protocols
      await identified
      assert.ok(user.services.reachability?.routerPeer?.equals(router.peerId), 'still asks its bootstrap router')
      assert.equal(asked, 0)
    })

    test('a bootstrap peer\'s answer vouching for addresses it was not asked about is refused', async () => {
      const trusting = await createLoopbackNode({ bootstrap: [liar.getMultiaddrs()[0].toString()], relaySlots: 1 })
      try {
        const service = trusting.services.reachability!
        await waitFor('the refused answer', () => service.lastProbeError, 20_000, 50)
        assert.match(service.lastProbeError ?? '', /^the router vouched for an address it was not asked about \(\/ip4\/203\.0\.113\.9\/tcp\/25\); ignored$/)
        assert.equal(service.reachability, 'unknown')
        assert.deepEqual(service.confirmed, [])
        assert.ok(!trusting.getMultiaddrs().some(a => lies.some(l => a.toString().startsWith(l))), 'nothing it vouched for is advertised')
      } finally {
        await trusting.stop()
      }
    })
  })
})
