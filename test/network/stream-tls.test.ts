import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createSecureContext, type SecureContext } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { createLibp2p, type Libp2p } from 'libp2p'
import { TlsIdentity } from '../../src/network/native-tls.js'
import { secureTcp } from '../../src/network/secure-tcp.js'
import { streamTls } from '../../src/network/stream-tls.js'
import type { NetworkNode } from '../../src/network/index.js'
import { connectThroughRouter, createLoopbackNode, reserveAtRouter } from '../helpers/nodes.js'
import { makeLibp2pCredentials } from '../helpers/certificates.js'
import { waitFor } from '../helpers/wait.js'

/** A TLS identity whose certificate key is RSA, with no limit on the signatures it offers: what a peer of its own making could present. */
class RsaCertificateIdentity extends TlsIdentity {
  constructor (private readonly key: PrivateKey) { super(key) }
  override async secureContext (): Promise<SecureContext> {
    const { cert, privateKeyPem } = await makeLibp2pCredentials(this.key, { certificateKey: 'RSA' })
    return createSecureContext({ cert: new X509Certificate(cert).toString(), key: privateKeyPem, minVersion: 'TLSv1.3' })
  }
}

/**
 * A libp2p node that reaches others only through a router, securing relayed
 * connections with stream-tls over the given identity, or with @libp2p/tls
 * ('libp2p'), as another js-libp2p program does. Its TCP transport (to the
 * router) stays cspace's own: only the relayed connection is what is tested.
 */
async function relayedOnlyNode (identity: ((key: PrivateKey) => TlsIdentity) | 'libp2p'): Promise<Libp2p<{ identify: unknown, ping: { ping: (peer: PeerId) => Promise<number> } }>> {
  const privateKey = await generateKeyPair('Ed25519')
  return await createLibp2p({
    privateKey,
    transports: [secureTcp(tcp(), { identity: new TlsIdentity(privateKey), handshakeTimeoutMs: 10_000 }), circuitRelayTransport()],
    connectionEncrypters: [identity === 'libp2p' ? tls() : streamTls(identity(privateKey))],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  })
}

describe('relayed connections: TLS by the same OpenSSL code as TCP', () => {
  const nodes: Libp2p[] = []
  /** Each node is stopped after the tests, even when one made beside it failed to start. */
  const track = <N extends Libp2p>(node: N): N => { nodes.push(node); return node }
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  test('a relayed connection is secured and carries streams', async () => {
    const [router, alice, bob] = await Promise.all([createLoopbackNode({ router: true }).then(track), createLoopbackNode().then(track), createLoopbackNode().then(track)])
    const relayed = await connectThroughRouter(router, alice, bob)
    assert.equal(relayed.encryption, '/tls/1.0.0')
    assert.equal(relayed.limits != null, true, 'the connection is relayed')
    assert.ok(await (alice as NetworkNode).services.ping.ping(bob.peerId) >= 0)
  })

  test('a peer whose certificate key is RSA cannot connect through a router; the callee keeps serving', async () => {
    const [router, bob] = await Promise.all([createLoopbackNode({ router: true }).then(track), createLoopbackNode().then(track)])
    const mallory = track(await relayedOnlyNode(key => new RsaCertificateIdentity(key)))
    const throughRouter = await reserveAtRouter(router, bob)
    // in TLS 1.3 the client's handshake ends before the server has checked it: mallory's dial may resolve, then close
    await mallory.dial(throughRouter, { signal: AbortSignal.timeout(20_000) }).catch(() => {})
    await waitFor('mallory\'s relayed connection to bob gone', () => mallory.getConnections(bob.peerId).length === 0, 15_000)
    assert.equal(bob.getConnections(mallory.peerId).length, 0)
    // an honest peer still reaches bob through the same router
    const alice = track(await createLoopbackNode())
    const relayed = await alice.dial(throughRouter, { signal: AbortSignal.timeout(20_000) })
    assert.equal(relayed.remotePeer.toString(), bob.peerId.toString())
  })

  test('a peer running @libp2p/tls reaches a cspace node through a router, and is reached by one', async () => {
    const [router, bob] = await Promise.all([createLoopbackNode({ router: true }).then(track), createLoopbackNode().then(track)])
    const carol = track(await relayedOnlyNode('libp2p'))
    // carol (@libp2p/tls) dials bob (stream-tls); both name their protocol
    // /tls/1.0.0, so the evidence is the handshake and the ping over it
    const toBob = await carol.dial(await reserveAtRouter(router, bob), { signal: AbortSignal.timeout(20_000) })
    assert.equal(toBob.encryption, '/tls/1.0.0')
    assert.equal(toBob.limits != null, true, 'the connection is relayed')
    assert.ok(await carol.services.ping.ping(bob.peerId) >= 0)
    await toBob.close()
    // alice (stream-tls) dials carol (@libp2p/tls)
    const alice = track(await createLoopbackNode())
    const toCarol = await alice.dial(await reserveAtRouter(router, carol as unknown as NetworkNode), { signal: AbortSignal.timeout(20_000) })
    assert.equal(toCarol.remotePeer.toString(), carol.peerId.toString())
    assert.equal(toCarol.limits != null, true, 'the connection is relayed')
    assert.ok(await (alice as NetworkNode).services.ping.ping(carol.peerId) >= 0)
  })
})
