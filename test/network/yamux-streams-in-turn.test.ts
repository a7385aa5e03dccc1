import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import type { MultiaddrConnection, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'
import { withStreamsInTurn } from '../../src/network/yamux-streams-in-turn.js'
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
  const muxer = withStreamsInTurn(factory)().createStreamMuxer({} as unknown as MultiaddrConnection) as unknown as FakeMuxer
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
    assert.throws(() => withStreamsInTurn(factory)().createStreamMuxer({} as unknown as MultiaddrConnection), /review network\/yamux-streams-in-turn.ts/)
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
