import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import type { MultiaddrConnection, Stream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { AbstractMultiaddrConnection, type SendResult } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'
import { withYamuxLimits } from '../../src/network/yamux-limits.js'
import { withStreamsInTurn } from '../../src/network/yamux-streams-in-turn.js'
import { corkForTurn } from '../../src/util/cork.js'
import { cleanupAll, runCli, startTwoUsers, type TwoUsers } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

const MiB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 7)

/** Connects to `port` and writes `bytes`, as fast as the socket takes them; resolves once all are written. */
async function pump (port: number, bytes: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  for (let sent = 0; sent < bytes; sent += CHUNK.length) {
    if (!socket.write(CHUNK)) await once(socket, 'drain')
  }
  return socket
}

/** The parts of a yamux muxer withStreamsInTurn orders: its streams, and the sendFrame each stream sends through. */
interface FakeMuxer { streams: Array<{ streamId: number }>, sendFrame: (header: { type: number, streamID: number }) => boolean }

/** A muxer made by withStreamsInTurn around a factory of FakeMuxers whose socket is full while `full` is true. */
function muxerInTurn (): { open: (id: number) => void, send: (id: number, type?: number) => boolean, order: () => number[], full: { value: boolean } } {
  const full = { value: false }
  const fake: FakeMuxer = { streams: [], sendFrame: () => !full.value }
  const factory = (): StreamMuxerFactory => ({ protocol: '/yamux/1.0.0', createStreamMuxer: () => fake as unknown as StreamMuxer })
  const muxer = withStreamsInTurn(factory)().createStreamMuxer({ writableNeedsDrain: false, writeBuffer: { byteLength: 0 } } as unknown as MultiaddrConnection) as unknown as FakeMuxer
  return {
    full,
    // as @libp2p/utils adds a stream, and as a yamux stream sends a frame
    open: (id) => { muxer.streams.push({ streamId: id }) },
    send: (id, type = 0) => muxer.sendFrame({ type, streamID: id }),
    order: () => muxer.streams.map(s => s.streamId)
  }
}

describe('the order a connection\'s streams are told of a drain', () => {
  test('a new stream comes first', () => {
    const m = muxerInTurn()
    for (const id of [1, 3, 5]) m.open(id)
    assert.deepEqual(m.order(), [5, 3, 1])
  })

  test('the stream whose data frame filled the socket goes last; one that did not, or a control frame, stays', () => {
    const m = muxerInTurn()
    for (const id of [1, 3, 5]) m.open(id)
    assert.equal(m.send(3), true)
    assert.deepEqual(m.order(), [5, 3, 1], 'room left: no turn taken')
    m.full.value = true
    assert.equal(m.send(5), false)
    assert.deepEqual(m.order(), [3, 1, 5])
    m.send(1, 1) // a window update
    assert.deepEqual(m.order(), [3, 1, 5])
    m.send(3)
    m.send(1)
    assert.deepEqual(m.order(), [5, 3, 1], 'each in turn')
    m.send(7) // a stream already gone
    assert.deepEqual(m.order(), [5, 3, 1])
  })

  test('a muxer without the parts it reaches fails loudly', () => {
    const factory = (): StreamMuxerFactory => ({ protocol: '/yamux/1.0.0', createStreamMuxer: () => ({}) as unknown as StreamMuxer })
    assert.throws(() => withStreamsInTurn(factory)().createStreamMuxer({ writableNeedsDrain: false, writeBuffer: { byteLength: 0 } } as unknown as MultiaddrConnection), /review network\/yamux-streams-in-turn.ts/)
  })
})

/**
 * A libp2p connection over a TCP socket as @libp2p/tcp makes one (its class
 * is not exported) on a socket corked for each turn of the event loop, as
 * native-tls.ts corks its TLS sockets: a write that takes the socket past
 * its high-water mark (Node's 64 KiB here, 1 MiB there) asks the muxer to
 * wait for the socket's 'drain'.
 */
class SocketConnection extends AbstractMultiaddrConnection {
  /** The most bytes the connection held unsent, after handing the socket what it took. */
  maxHeld = 0

  constructor (readonly socket: net.Socket, direction: 'inbound' | 'outbound') {
    super({ log: logger(`test:connection:${direction}`), direction, remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1') })
    socket.on('data', (buf: Buffer) => { this.onData(buf) })
    socket.on('drain', () => { this.safeDispatchEvent('drain') })
    socket.on('error', (err) => { this.abort(err) })
    socket.on('close', () => { this.onTransportClosed() })
  }

  sendData (data: Uint8ArrayList): SendResult {
    let sentBytes = 0
    let canSendMore = true
    for (const buf of data) {
      corkForTurn(this.socket)
      sentBytes += buf.byteLength
      canSendMore = this.socket.write(buf)
      if (!canSendMore) break
    }
    this.maxHeld = Math.max(this.maxHeld, this.writeBuffer.byteLength + data.byteLength - sentBytes)
    return { sentBytes, canSendMore }
  }

  sendReset (): void { this.socket.resetAndDestroy() }
  sendPause (): void { this.socket.pause() }
  sendResume (): void { this.socket.resume() }
  async sendClose (): Promise<void> { this.socket.destroySoon() }
}

/** Writes `bytes` to `stream` as a tunnel does (session/pipe.ts): on while it takes them, waiting for a drain once it holds 256 KiB; rejects if the stream closes first. */
async function pumpStream (stream: Stream, bytes: number): Promise<void> {
  const closed = new AbortController()
  stream.addEventListener('close', () => { closed.abort() }, { once: true })
  for (let sent = 0; sent < bytes; sent += CHUNK.length) {
    if (stream.send(CHUNK) && stream.writeBufferLength <= 256 * 1024) continue
    while (stream.writeBufferLength > 256 * 1024) await once(stream, 'drain', { signal: closed.signal })
  }
}

describe('a connection whose socket drains in small steps', () => {
  test('once it holds a socket-full, its streams wait for the drain: it is not cut, and holds little more', async () => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const accepted = once(server, 'connection')
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    const [serverSocket] = await accepted as [net.Socket]
    await once(client, 'connect')
    server.close()
    // as node.ts configures yamux, with a connection limit a test reaches quickly
    const muxers = withStreamsInTurn(withYamuxLimits(yamux({ streamOptions: { maxStreamWindowSize: 4 * MiB, maxReadBufferLength: 8 * MiB } }), { maxStreamWindowSize: 4 * MiB, maxConnectionWriteBuffer: 8 * MiB }))()
    const sending = new SocketConnection(client, 'outbound')
    const receiving = new SocketConnection(serverSocket, 'inbound')
    const sender = muxers.createStreamMuxer(sending)
    const receiver = muxers.createStreamMuxer(receiving)
    let cut: Error | undefined
    sending.addEventListener('close', (evt) => { cut = evt.error })
    let received = 0
    receiver.addEventListener('stream', (evt) => {
      evt.detail.addEventListener('message', (msg) => { received += msg.data.byteLength })
    })
    const streams = 32
    const perStream = 4 * MiB
    try {
      // a pump fails once the connection is cut, which is asserted below
      await Promise.all(Array.from({ length: streams }, async () => { await pumpStream(await sender.createStream(), perStream) }).map(async (p) => { await p.catch(() => {}) }))
      await waitFor('every byte to arrive', () => received === streams * perStream || sending.status !== 'open', 60_000)
      assert.equal(cut, undefined, `the connection was cut: ${cut?.message}`)
      // a 64 KiB socket takes one piece per drain, and each drain let a
      // stream add a whole frame: without the wait, 8 MiB and cut within
      // 0.2 s; with it, 1 MiB (CONNECTION_QUEUE_HIGH_WATER) and one frame
      assert.ok(sending.maxHeld < 2 * MiB, `the connection held ${(sending.maxHeld / MiB).toFixed(1)} MiB unsent`)
    } finally {
      client.destroy()
      serverSocket.destroy()
    }
  })
})

/**
 * The streams of one connection between two daemons wait together when its
 * socket is full, and libp2p lets them go on in the order they were opened:
 * the oldest busy tunnel always went first, and a new session's request
 * waited for every older tunnel to run dry. Real daemons, alice's tunnels to
 * bob's services; what is asserted is how many bytes the busy tunnels
 * delivered meanwhile, not how long anything took.
 */
describe('many busy tunnels to one contact', () => {
  let users: TwoUsers
  /** Bytes bob's sink service received. */
  let total = 0
  const servers: net.Server[] = []
  let sinkPort = 0
  let echoPort = 0

  async function service (onConnection: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer((socket) => { socket.on('error', () => {}); onConnection(socket) })
    servers.push(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return (server.address() as net.AddressInfo).port
  }

  async function cli (home: string, args: string[]): Promise<string> {
    const r = await runCli(home, args)
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.trim()
  }

  before(async () => {
    users = await startTwoUsers()
    const sink = await service((socket) => { socket.on('data', (d: Buffer) => { total += d.length }) })
    const echo = await service((socket) => socket.pipe(socket))
    await cli(users.bob.home, ['expose', 'sink', `127.0.0.1:${sink}`])
    await cli(users.bob.home, ['expose', 'echo', `127.0.0.1:${echo}`])
    sinkPort = Number(await cli(users.alice.home, ['forward', '0', 'bob', 'sink']))
    echoPort = Number(await cli(users.alice.home, ['forward', '0', 'bob', 'echo']))
  })
  after(async () => {
    for (const s of servers) s.close()
    await cleanupAll()
  })

  test('a new session gets through while 48 tunnels fill the connection', async () => {
    const busy = Array.from({ length: 48 }, async () => await pump(sinkPort, 8 * MiB))
    await waitFor('the tunnels to be busy', () => total > 32 * MiB, 60_000)
    const client = net.connect(echoPort, '127.0.0.1')
    await once(client, 'connect')
    const sentAt = total
    client.write('x')
    await once(client, 'data')
    const between = total - sentAt
    // 4-24 MiB in turns (what buffers on the way hold, and a turn of the
    // tunnels ahead); without, the request waited for the 48 tunnels to run
    // dry: 150-280 of their 384 MiB
    assert.ok(between < 64 * MiB, `the busy tunnels delivered ${(between / MiB).toFixed(1)} MiB before the new session's round trip`)
    client.destroy()
    const sockets = await Promise.all(busy)
    await waitFor('the tunnels\' bytes to arrive', () => total === 48 * 8 * MiB, 60_000)
    for (const s of sockets) s.destroy()
  })
})
