import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import v8 from 'node:v8'
import vm from 'node:vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { secureSocket, TlsIdentity } from '../../src/network/native-tls.js'
import type { NetworkNode } from '../../src/network/index.js'
import { MAX_CONNECTION_WRITE_BUFFER } from '../../src/network/yamux-limits.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

// yamux spec: frame types and flags
const DATA = 0
const WINDOW_UPDATE = 1
const PING = 2
const SYN = 0x1
const ACK = 0x2
/** cspace's largest stream window (node.ts) */
const MAX_WINDOW = 4 * 1024 * 1024

const nodes: NetworkNode[] = []
after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

/** A full garbage collection, so that the heap measured is what is held. */
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function held (): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

function header (type: number, flag: number, streamId: number, length: number): Buffer {
  const b = Buffer.alloc(12)
  b[1] = type
  b.writeUInt16BE(flag, 2)
  b.writeUInt32BE(streamId, 4)
  b.writeUInt32BE(length, 8)
  return b
}

interface Attacker { socket: Duplex, closed: () => boolean, peerId: string }

/** A peer that does the node's TLS handshake (native-tls.ts, as a real client) and then writes yamux frames by hand. */
async function attacker (node: NetworkNode): Promise<Attacker> {
  const ma = node.getMultiaddrs().find(a => !a.toString().includes('p2p-circuit'))
  assert.ok(ma != null)
  const parts = ma.toString().split('/')
  const raw = net.connect(Number(parts[4]), parts[2])
  await once(raw, 'connect')
  const key = await generateKeyPair('Ed25519')
  const identity = new TlsIdentity(key)
  const { socket, remotePeer } = await secureSocket(raw, identity, { isServer: false, expectedPeer: node.peerId, signal: AbortSignal.timeout(10_000) })
  assert.equal(remotePeer.toString(), node.peerId.toString())
  let closed = false
  socket.on('close', () => { closed = true })
  socket.on('error', () => {})
  return { socket, closed: () => closed, peerId: peerIdFromPrivateKey(key).toString() }
}

/** Writes, waiting for the socket's drain; false once the socket is gone. */
async function write (a: Attacker, buf: Buffer): Promise<boolean> {
  if (a.closed() || a.socket.destroyed) return false
  if (a.socket.write(buf)) return true
  await new Promise<void>((resolve) => {
    const done = (): void => {
      a.socket.off('drain', done)
      a.socket.off('close', done)
      resolve()
    }
    a.socket.on('drain', done)
    a.socket.on('close', done)
  })
  return !a.closed()
}

/**
 * Sends a yamux ping and waits for the node's answer. yamux handles a
 * connection's frames in order, so once it answers, it has handled
 * everything written before; the socket's frames are read from its start.
 */
async function pingThrough (a: Attacker, opaque: number): Promise<boolean> {
  let buf = Buffer.alloc(0)
  let answered = false
  const onData = (d: Buffer): void => {
    buf = Buffer.concat([buf, d])
    while (buf.length >= 12) {
      const type = buf[1]
      const length = buf.readUInt32BE(8)
      const size = type === DATA ? 12 + length : 12
      if (buf.length < size) break
      if (type === PING && (buf.readUInt16BE(2) & ACK) !== 0 && length === opaque) answered = true
      buf = buf.subarray(size)
    }
  }
  a.socket.on('data', onData)
  await write(a, header(PING, SYN, 0, opaque))
  await waitFor('the node to answer a ping sent after the frame', () => answered || a.closed(), 10_000, 10)
  a.socket.off('data', onData)
  return answered
}

function connectedTo (node: NetworkNode, peerId: string): boolean {
  return node.getConnections().some(c => c.remotePeer.toString() === peerId)
}

/** A fresh node can still connect to `node` and ping it. */
async function stillServes (node: NetworkNode): Promise<void> {
  const peer = await createLoopbackNode()
  nodes.push(peer)
  await peer.dial(node.getMultiaddrs()[0])
  assert.ok(await peer.services.ping.ping(node.peerId) >= 0)
}

describe('yamux limits', () => {
  test('a Data frame announcing more than the largest window closes the connection before its body is read', async () => {
    const node = await createLoopbackNode()
    nodes.push(node)

    // a frame within the window is fine: the connection stays
    const polite = await attacker(node)
    await waitFor('the node to see the polite peer', () => connectedTo(node, polite.peerId))
    assert.ok(await write(polite, Buffer.concat([header(WINDOW_UPDATE, SYN, 1, 0), header(DATA, 0, 1, 1000), Buffer.alloc(1000)])))
    assert.ok(await pingThrough(polite, 7), 'the node answered a ping sent after the frame')
    assert.ok(!polite.closed() && connectedTo(node, polite.peerId), 'a 1000-byte frame is no reason to close')
    polite.socket.destroy()

    const a = await attacker(node)
    await waitFor('the node to see the attacker', () => connectedTo(node, a.peerId))
    // one byte over the largest window, then 1 MiB of its body: the library
    // waited for all 4 MiB + 1 (up to 4 GiB) before looking at the frame
    await write(a, header(DATA, SYN, 3, MAX_WINDOW + 1))
    for (let i = 0; i < 16 && !a.closed(); i++) await write(a, Buffer.alloc(64 * 1024))
    await waitFor('the node to close the connection', () => a.closed(), 5_000, 20)
    await waitFor('the node to drop the connection', () => !connectedTo(node, a.peerId), 5_000, 20)
    await stillServes(node)
  })

  test('a peer flooding pings without reading is cut off once its unread answers pass the write buffer limit', async (t) => {
    const node = await createLoopbackNode()
    nodes.push(node)
    const a = await attacker(node)
    await waitFor('the node to see the attacker', () => connectedTo(node, a.peerId))
    a.socket.pause() // never read the answers
    const batch = Buffer.concat(Array.from({ length: 4096 }, (_, i) => header(PING, SYN, 0, i)))
    const before = held()
    let peakGrowth = 0
    let pings = 0
    // 3 M pings (36 MiB): unbounded, the node queued ~220 bytes of heap per answer (~650 MB)
    while (pings < 3_000_000 && await write(a, batch)) {
      pings += batch.length / 12
      // what the node holds, every 128 Ki pings
      if (pings % (32 * 4096) === 0) peakGrowth = Math.max(peakGrowth, held() - before)
    }
    await waitFor('the node to close the connection', () => a.closed(), 10_000, 20)
    await waitFor('the node to drop the connection', () => !connectedTo(node, a.peerId), 5_000, 20)
    // the kernel's socket buffers take the first ~10 MB of answers; the
    // limit counts each queued 12-byte answer as 256 bytes
    const mb = Math.round(peakGrowth / 1048576)
    t.diagnostic(`closed after ${pings} pings; the node held ${mb} MB more at most`)
    assert.ok(pings < 3_000_000, `closed after ${pings} pings`)
    assert.ok(peakGrowth < 2 * MAX_CONNECTION_WRITE_BUFFER, `the node held ${mb} MB more at most (the limit: ${MAX_CONNECTION_WRITE_BUFFER / 1048576} MiB)`)
    await stillServes(node)
  })
})
