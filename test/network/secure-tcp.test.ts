import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import type { PeerId } from '@libp2p/interface'
import { secureSocket, TlsIdentity, YAMUX_PROTOCOL } from '../../src/network/native-tls.js'
import { secureTcp } from '../../src/network/secure-tcp.js'
import { createLoopbackNode, createLoopbackPair } from '../helpers/nodes.js'
import { makeLibp2pCredentials } from '../helpers/certificates.js'
import { waitFor } from '../helpers/wait.js'

const nodes: Libp2p[] = []
after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

type Listening = Pick<Libp2p, 'getMultiaddrs'>

function tcpAddress (node: Listening): { host: string, port: number } {
  const ma = node.getMultiaddrs().find(a => !a.toString().includes('p2p-circuit'))
  assert.ok(ma != null, 'the node listens on TCP')
  const parts = ma.toString().split('/')
  return { host: parts[2], port: Number(parts[4]) }
}

/** A TCP connection to the node, from a loopback address of our choice (all of 127/8 is loopback). */
async function rawConnect (node: Listening, from?: string): Promise<net.Socket> {
  const { host, port } = tcpAddress(node)
  const socket = net.connect({ port, host, localAddress: from })
  await once(socket, 'connect')
  return socket
}

/** `count` connections from one address that never send a byte, made one after another (the node accepts in that order). */
async function idleSockets (node: Listening, from: string, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = []
  for (let i = 0; i < count; i++) {
    const socket = await rawConnect(node, from)
    socket.on('error', () => {})
    sockets.push(socket)
  }
  return sockets
}

/** A whole TLS handshake with the node from `from`, as a peer's first step; the socket is closed after. */
async function handshake (node: Listening & { peerId: PeerId }, from: string): Promise<void> {
  const client = new TlsIdentity(await generateKeyPair('Ed25519'))
  const { socket } = await secureSocket(await rawConnect(node, from), client, { isServer: false, expectedPeer: node.peerId, signal: AbortSignal.timeout(10_000) })
  socket.destroy()
}

/**
 * A libp2p node whose TCP transport (secure-tcp.ts) has the handshake caps
 * given, small enough to fill in a test; the daemon's node sets its own.
 */
async function cappedNode (caps: { maxPendingHandshakes: number, maxPendingHandshakesPerIp: number }): Promise<Libp2p> {
  const privateKey = await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [secureTcp(tcp(), { identity: new TlsIdentity(privateKey), ...caps, handshakeTimeoutMs: 10_000 })],
    connectionEncrypters: [tls()],
    streamMuxers: [yamux()]
  })
  nodes.push(node)
  return node
}

/** Resolves with the bytes received once the socket closes (it must close within the deadline). */
async function closesWith (socket: net.Socket, deadlineMs: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (b: Buffer) => chunks.push(b))
  socket.on('error', () => {})
  await waitFor('the node to close the connection', () => socket.destroyed || socket.readableEnded, deadlineMs, 20)
  return Buffer.concat(chunks)
}

describe('TCP connections: TLS by OpenSSL on the socket', () => {
  test('two nodes connect with the handshake done before the upgrader, yamux chosen in it, each proving its key', async () => {
    const [a, b] = await createLoopbackPair()
    nodes.push(a, b)
    const conn = await a.dial(b.getMultiaddrs()[0])
    assert.equal(conn.remotePeer.toString(), b.peerId.toString())
    assert.equal(conn.encryption, 'native', 'the upgrader did not negotiate an encrypter of its own')
    assert.equal(conn.multiplexer, YAMUX_PROTOCOL)
    const back = await waitFor('b sees the connection', () => b.getConnections(a.peerId)[0])
    assert.equal(back.remotePeer.toString(), a.peerId.toString())
    assert.equal(back.encryption, 'native')
    // a stream works both ways over it
    assert.ok(await a.services.ping.ping(b.peerId) >= 0)
  })

  test('dialling an address whose /p2p/ is another peer fails, and no connection is kept', async () => {
    const b = await createLoopbackNode()
    const a = await createLoopbackNode()
    nodes.push(a, b)
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const { host, port } = tcpAddress(b)
    await assert.rejects(a.dial(multiaddr(`/ip4/${host}/tcp/${port}/p2p/${stranger.toString()}`)), (err: Error) => {
      assert.match(`${err.name} ${err.message} ${String((err as { errors?: Error[] }).errors?.map(e => `${e.name} ${e.message}`))}`, /UnexpectedPeer|not the .* that was dialled/)
      return true
    })
    assert.equal(a.getConnections(b.peerId).length, 0)
  })

  test('a client that is not TLS, or sends a broken or oversized first record, is closed; the node keeps serving', async () => {
    const node = await createLoopbackNode()
    const peer = await createLoopbackNode()
    nodes.push(node, peer)
    const inputs = [
      Buffer.from('/multistream/1.0.0\n'), // libp2p's usual first bytes: not TLS
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0xff]), // a ClientHello that lies about its length
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff]), Buffer.alloc(0xffff, 0x41)]) // a 64 KiB record: over TLS's limit
    ]
    for (const input of inputs) {
      const socket = await rawConnect(node)
      socket.write(input)
      const answer = await closesWith(socket, 15_000)
      // at most a TLS alert record comes back, never anything of libp2p's
      assert.ok(answer.length === 0 || answer[0] === 0x15, `answer ${answer.subarray(0, 16).toString('hex')}`)
    }
    const conn = await peer.dial(node.getMultiaddrs()[0])
    assert.equal(conn.encryption, 'native')
  })

  test('a peer whose certificate key is RSA is refused in the handshake (OpenSSL would check its signatures, at any exponent); an ECDSA one connects', async () => {
    const node = await createLoopbackNode()
    nodes.push(node)
    /** A handshake presenting a valid libp2p certificate of a new peer with the given TLS key; that peer, once the socket is done. */
    const present = async (certificateKey: 'ECDSA' | 'RSA'): Promise<PeerId> => {
      const key = await generateKeyPair('Ed25519')
      const { cert, privateKeyPem } = await makeLibp2pCredentials(key, { certificateKey })
      const { host, port } = tcpAddress(node)
      const socket = tlsConnect({ host, port, cert: new X509Certificate(cert).toString(), key: privateKeyPem, minVersion: 'TLSv1.3', rejectUnauthorized: false, ALPNProtocols: [YAMUX_PROTOCOL] })
      socket.on('error', () => {})
      if (certificateKey === 'RSA') await closesWith(socket, 15_000)
      else await once(socket, 'secureConnect')
      return peerIdFromPrivateKey(key)
    }
    const ecdsa = await present('ECDSA')
    await waitFor('the ECDSA peer connected', () => node.getConnections(ecdsa).length > 0)
    const rsa = await present('RSA')
    assert.equal(node.getConnections(rsa).length, 0)
  })

  test('a node presents the same certificate on every connection (made once, not per connection)', async () => {
    const node = await createLoopbackNode()
    nodes.push(node)
    const client = new TlsIdentity(await generateKeyPair('Ed25519'))
    const certificates: string[] = []
    for (let i = 0; i < 2; i++) {
      const { socket, remotePeer } = await secureSocket(await rawConnect(node), client, { isServer: false, expectedPeer: node.peerId, signal: AbortSignal.timeout(10_000) })
      assert.equal(remotePeer.toString(), node.peerId.toString())
      certificates.push(socket.getPeerCertificate().raw.toString('base64'))
      socket.destroy()
    }
    assert.equal(certificates[0], certificates[1])
  })

  test('idle sockets from one address, up to its cap and beyond, do not stop a handshake from another address', async () => {
    const node = await cappedNode({ maxPendingHandshakes: 6, maxPendingHandshakesPerIp: 2 })
    const peer = await createLoopbackNode()
    nodes.push(peer)
    // as many as the node takes from all addresses together: uncapped per address, these held every slot
    const idle = await idleSockets(node, '127.0.0.2', 6)
    const conn = await peer.dial(node.getMultiaddrs()[0])
    assert.equal(conn.encryption, 'native', 'a peer on 127.0.0.1 still connects')
    for (const s of idle) s.destroy()
  })

  test('an address over its cap of pending handshakes is closed at once; within it, and from other addresses, handshakes go on', async () => {
    const node = await cappedNode({ maxPendingHandshakes: 6, maxPendingHandshakesPerIp: 2 })
    const idle = await idleSockets(node, '127.0.0.2', 2)
    const over = await rawConnect(node, '127.0.0.2')
    assert.equal((await closesWith(over, 5_000)).length, 0, 'the third from 127.0.0.2: closed without a byte')
    assert.ok(idle.every(s => !s.destroyed && !s.readableEnded), 'the two within its cap are still waiting for their handshake')
    await handshake(node, '127.0.0.3')
    // a slot given back (the socket closed) is the address's again
    idle[0].destroy()
    await waitFor('a handshake from 127.0.0.2 once one of its slots is free', async () => await handshake(node, '127.0.0.2').then(() => true, () => false), 10_000, 50)
    idle[1].destroy()
  })

  test('pending handshakes from many addresses are capped in all; the rest are closed at once', async () => {
    const node = await cappedNode({ maxPendingHandshakes: 6, maxPendingHandshakesPerIp: 2 })
    const peer = await createLoopbackNode()
    nodes.push(peer)
    const stalled = (await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map(async from => await idleSockets(node, from, 2)))).flat()
    // the node accepts in arrival order, so the six are pending before this one comes
    const extra = await rawConnect(node, '127.0.0.5')
    assert.equal((await closesWith(extra, 5_000)).length, 0, 'over the cap: closed without a byte')
    assert.ok(stalled.every(s => !s.destroyed && !s.readableEnded), 'the pending ones are still waiting for their handshake')
    for (const s of stalled) s.destroy()
    await waitFor('a real peer connects once the stalled ones are gone', async () => await peer.dial(node.getMultiaddrs()[0]).then(c => c.encryption === 'native', () => false), 10_000, 100)
  })
})

describe('secureSocket', () => {
  test('a peer that accepts TCP but never answers the handshake is given up when the signal fires', async () => {
    const server = net.createServer(() => {})
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
      await once(raw, 'connect')
      const identity = new TlsIdentity(await generateKeyPair('Ed25519'))
      await assert.rejects(secureSocket(raw, identity, { isServer: false, signal: AbortSignal.timeout(300) }), /abort|timeout/i)
      assert.equal(raw.destroyed, true, 'the socket is closed')
    } finally {
      server.close()
    }
  })
})
