import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import { once } from 'node:events'
import type { Stream } from '@libp2p/interface'
import type { NetworkNode } from '../../src/network/index.js'
import { pipeSocketStream, STREAM_QUEUE_HIGH_WATER } from '../../src/session/pipe.js'
import { createLoopbackPair } from '../helpers/nodes.js'

const PROTOCOL = '/cspace-test/sink/1.0.0'
const STREAMS = 4
const BYTES_PER_STREAM = 24 * 1024 * 1024
/** A socket read is at most 64 KiB, and one read may land on a queue just under the mark. */
const QUEUE_BOUND = STREAM_QUEUE_HIGH_WATER + 64 * 1024

/**
 * The tunnel's data path under parallel streams on one connection. yamux
 * tells every stream "drain" when the connection drains, including streams
 * whose own window is shut; a pipe that believed it queued without bound
 * (the daemon reached 1.4 GiB with iperf3 -P 4).
 */
describe('pipe: socket into stream, several streams on one connection', () => {
  let a: NetworkNode
  let b: NetworkNode
  const digests = new Map<number, Promise<{ bytes: number, sha256: string }>>()

  before(async () => {
    [a, b] = await createLoopbackPair()
    // b's sink hashes what each stream carries; the first 4 bytes name the stream
    await b.handle(PROTOCOL, (stream: Stream) => {
      let id: number | undefined
      let head = Buffer.alloc(0)
      const hash = createHash('sha256')
      let bytes = 0
      digests.set(digests.size, new Promise((resolve) => {
        stream.addEventListener('message', (evt) => {
          let chunk = Buffer.from(evt.data.subarray())
          if (id == null) {
            head = Buffer.concat([head, chunk])
            if (head.length < 4) return
            id = head.readUInt32BE(0)
            chunk = head.subarray(4)
          }
          hash.update(chunk)
          bytes += chunk.length
        })
        stream.addEventListener('remoteCloseWrite', () => {
          resolve({ bytes, sha256: `${id ?? -1}:${hash.digest('hex')}` })
          void stream.close()
        })
      }))
    })
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  test(`${STREAMS} streams of ${BYTES_PER_STREAM >> 20} MiB arrive whole, and no stream queues more than the high-water mark plus one read`, async () => {
    const payloads = Array.from({ length: STREAMS }, () => randomBytes(BYTES_PER_STREAM))
    const largestQueue = new Array<number>(STREAMS).fill(0)

    const server = net.createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    let accepted = 0
    const pipes: Array<Promise<void>> = []
    server.on('connection', (socket) => {
      const index = accepted++
      pipes.push((async () => {
        const stream = await a.dialProtocol(b.getMultiaddrs()[0], PROTOCOL)
        const send = stream.send.bind(stream)
        stream.send = (data) => {
          const ok = send(data)
          largestQueue[index] = Math.max(largestQueue[index], stream.writeBufferLength)
          return ok
        }
        await pipeSocketStream(socket, stream)
      })())
    })

    await Promise.all(payloads.map(async (payload, i) => {
      const client = net.connect(port, '127.0.0.1')
      await once(client, 'connect')
      const head = Buffer.alloc(4)
      head.writeUInt32BE(i)
      client.write(head)
      client.end(payload)
      client.resume()
      await once(client, 'close')
    }))
    await Promise.all(pipes)
    server.close()

    const got = (await Promise.all([...digests.values()])).sort((x, y) => x.sha256.localeCompare(y.sha256))
    const want = payloads.map((p, i) => ({ bytes: p.length, sha256: `${i}:${createHash('sha256').update(p).digest('hex')}` })).sort((x, y) => x.sha256.localeCompare(y.sha256))
    assert.deepEqual(got, want)
    for (const [i, largest] of largestQueue.entries()) {
      assert.ok(largest <= QUEUE_BOUND, `stream ${i} queued ${largest} bytes unsent, more than ${QUEUE_BOUND}`)
    }
  })
})

/** pipeSocketStream's onFirstReply: the caller's cue that the session's first round trip is done. */
describe('pipe: first reply', () => {
  const ECHO = '/cspace-test/echo/1.0.0'
  const SILENT = '/cspace-test/silent/1.0.0'
  let a: NetworkNode
  let b: NetworkNode

  before(async () => {
    [a, b] = await createLoopbackPair()
    await b.handle(ECHO, (stream: Stream) => {
      stream.addEventListener('message', (evt) => { stream.send(evt.data) })
      stream.addEventListener('remoteCloseWrite', () => { void stream.close() })
    })
    await b.handle(SILENT, (stream: Stream) => {
      stream.addEventListener('remoteCloseWrite', () => { void stream.close() })
    })
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  /** A socket pair whose server end is piped to a new stream of `protocol`; counts onFirstReply calls. */
  async function pipedClient (protocol: string): Promise<{ client: net.Socket, calls: () => number, piped: Promise<void> }> {
    let calls = 0
    const server = net.createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], protocol)
    const accepted = once(server, 'connection')
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    const [socket] = await accepted as [net.Socket]
    server.close()
    const piped = pipeSocketStream(socket, stream, { onFirstReply: () => { calls++ } })
    return { client, calls: () => calls, piped }
  }

  test('is called once, by the time the first reply reaches the socket', async () => {
    const { client, calls, piped } = await pipedClient(ECHO)
    assert.equal(calls(), 0)
    client.write('one')
    await once(client, 'data')
    assert.equal(calls(), 1)
    client.write('two')
    await once(client, 'data')
    client.end()
    await piped
    assert.equal(calls(), 1, 'only for the first reply')
  })

  test('a session that never replies calls it when it ends', async () => {
    const { client, calls, piped } = await pipedClient(SILENT)
    client.end('nobody answers')
    client.resume()
    await piped
    assert.equal(calls(), 1)
  })
})
