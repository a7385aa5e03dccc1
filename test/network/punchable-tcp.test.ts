import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { canPunchTcp, connectFromPort } from '../../src/network/punchable-tcp.js'

async function listen (options: net.ListenOptions): Promise<net.Server> {
  const server = net.createServer((socket) => { socket.pipe(socket) })
  server.listen(options)
  await once(server, 'listening')
  return server
}
const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port

/**
 * The addon behind TCP hole punching (native/reuseport.c): a connection that
 * leaves from a port a listener holds. The punch itself is tested between two
 * NATs in test/network/nat-relay.test.ts.
 */
describe('connections from the listening port', () => {
  test('the addon is built (npm ci builds it with node-gyp)', () => {
    assert.equal(canPunchTcp, true)
  })

  test('a connection leaves from the port the daemon listens on, and carries data both ways', async () => {
    const ours = await listen({ port: 0, host: '127.0.0.1', reusePort: true })
    const theirs = await listen({ port: 0, host: '127.0.0.1' })
    try {
      const socket = await connectFromPort(portOf(ours), '127.0.0.1', portOf(theirs))
      assert.equal(socket.localPort, portOf(ours))
      assert.equal(socket.remotePort, portOf(theirs))
      socket.write('ping')
      const [echo] = await once(socket, 'data') as [Buffer]
      assert.equal(echo.toString(), 'ping')
      socket.destroy()
      // the listener still accepts connections of its own
      const other = net.connect(portOf(ours), '127.0.0.1')
      await once(other, 'connect')
      other.destroy()
    } finally {
      ours.close()
      theirs.close()
    }
  })

  test('a refused connection, a bad address and an abort are errors with their cause', async () => {
    const ours = await listen({ port: 0, host: '127.0.0.1', reusePort: true })
    const closed = await listen({ port: 0, host: '127.0.0.1' })
    const closedPort = portOf(closed)
    closed.close()
    await once(closed, 'close')
    try {
      await assert.rejects(connectFromPort(portOf(ours), '127.0.0.1', closedPort), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED')
      await assert.rejects(connectFromPort(portOf(ours), 'not-an-ip', 80), /connection error not-an-ip:80/)
      const aborted = new AbortController()
      aborted.abort(new Error('gave up'))
      await assert.rejects(connectFromPort(portOf(ours), '127.0.0.1', closedPort, aborted.signal), /gave up/)
    } finally {
      ours.close()
    }
  })
})

describe('a fixed listening port', () => {
  test('a second node on a port in use is refused (reusePort would otherwise share it silently)', async () => {
    const { createLoopbackNode } = await import('../helpers/nodes.js')
    const free = await listen({ port: 0, host: '127.0.0.1' })
    const port = portOf(free)
    free.close()
    await once(free, 'close')
    const first = await createLoopbackNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    try {
      // (createLibp2p starts the node, so the second one fails here)
      await assert.rejects(createLoopbackNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`] }), (err: Error) => err.message.includes('EADDRINUSE'))
    } finally {
      await first.stop()
    }
  })
})
