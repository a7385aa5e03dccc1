import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createSecureContext, type SecureContext } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { PrivateKey } from '@libp2p/interface'
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

/** A libp2p node that reaches others only through a router, with the given TLS identity for relayed connections. */
async function relayedOnlyNode (identity: (key: PrivateKey) => TlsIdentity): Promise<Libp2p> {
  const privateKey = await generateKeyPair('Ed25519')
  return await createLibp2p({
    privateKey,
    transports: [secureTcp(tcp(), { identity: new TlsIdentity(privateKey), handshakeTimeoutMs: 10_000 }), circuitRelayTransport()],
    connectionEncrypters: [streamTls(identity(privateKey))],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
}

describe('relayed connections: TLS by the same OpenSSL code as TCP', () => {
  const nodes: Libp2p[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  test('a relayed connection is secured and carries streams', async () => {
    const [router, alice, bob] = await Promise.all([createLoopbackNode({ router: true }), createLoopbackNode(), createLoopbackNode()])
    nodes.push(router, alice, bob)
    const relayed = await connectThroughRouter(router, alice, bob)
    assert.equal(relayed.encryption, '/tls/1.0.0')
    assert.equal(relayed.limits != null, true, 'the connection is relayed')
    assert.ok(await (alice as NetworkNode).services.ping.ping(bob.peerId) >= 0)
  })

  test('a peer whose certificate key is RSA cannot connect through a router; the callee keeps serving', async () => {
    const [router, bob] = await Promise.all([createLoopbackNode({ router: true }), createLoopbackNode()])
    const mallory = await relayedOnlyNode(key => new RsaCertificateIdentity(key))
    nodes.push(router, bob, mallory)
    const throughRouter = await reserveAtRouter(router, bob)
    // in TLS 1.3 the client's handshake ends before the server has checked it: mallory's dial may resolve, then close
    await mallory.dial(throughRouter, { signal: AbortSignal.timeout(20_000) }).catch(() => {})
    await waitFor('mallory\'s relayed connection to bob gone', () => mallory.getConnections(bob.peerId).length === 0, 15_000)
    assert.equal(bob.getConnections(mallory.peerId).length, 0)
    // an honest peer still reaches bob through the same router
    const alice = await createLoopbackNode()
    nodes.push(alice)
    const relayed = await alice.dial(throughRouter, { signal: AbortSignal.timeout(20_000) })
    assert.equal(relayed.remotePeer.toString(), bob.peerId.toString())
  })
})
