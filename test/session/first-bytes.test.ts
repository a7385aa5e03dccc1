import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { firstBytesIfSent } from '../../src/session/first-bytes.js'

/** A listener as a forward makes it (paused on connect), whose accepted sockets come out one by one. */
async function listener (): Promise<{ port: number, accepted: () => Promise<net.Socket>, close: () => void }> {
  const queue: net.Socket[] = []
  const waiting: Array<(s: net.Socket) => void> = []
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
    const w = waiting.shift()
    if (w != null) w(s)
    else queue.push(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: async () => queue.shift() ?? await new Promise<net.Socket>((resolve) => waiting.push(resolve)),
    close: () => server.close()
  }
}

/**
 * The bytes an application sent with its connect go with the service request
 * (session/first-bytes.ts); an application whose server speaks first is not
 * kept waiting, and one that sent its EOF already still has it seen.
 */
describe('first bytes of an accepted socket', () => {
  test('bytes written right after the connect are returned, and the socket is paused again', async () => {
    const l = await listener()
    let written: () => void = () => {}
    const inKernel = new Promise<void>((resolve) => { written = resolve })
    const client = net.connect(l.port, '127.0.0.1', () => client.write('GET / HTTP/1.1\r\n\r\n', () => written()))
    const socket = await l.accepted()
    // as in the daemon: the client's bytes are in the kernel by the time its connect is handled
    await inKernel
    const bytes = await firstBytesIfSent(socket)
    assert.equal(bytes?.toString(), 'GET / HTTP/1.1\r\n\r\n')
    assert.equal(socket.isPaused(), true)
    client.write('more')
    socket.resume()
    const [more] = await once(socket, 'data') as [Buffer]
    assert.equal(more.toString(), 'more', 'the next bytes are left for the pipe')
    client.destroy(); socket.destroy(); l.close()
  })

  test('a client that waits for the server gets undefined after one loop turn, not a delay', async () => {
    const l = await listener()
    const client = net.connect(l.port, '127.0.0.1')
    const socket = await l.accepted()
    const t0 = performance.now()
    const bytes = await firstBytesIfSent(socket)
    assert.equal(bytes, undefined)
    assert.ok(performance.now() - t0 < 1000, 'resolved within the loop turn, not on a timer')
    assert.equal(socket.isPaused(), true)
    client.destroy(); socket.destroy(); l.close()
  })

  test('a client that sent and closed at once: bytes returned, the EOF still to come or already marked', async () => {
    const l = await listener()
    const client = net.connect(l.port, '127.0.0.1', () => client.end('bye'))
    const socket = await l.accepted()
    await once(client, 'finish')
    const bytes = await firstBytesIfSent(socket)
    assert.equal(bytes?.toString(), 'bye')
    if (!socket.readableEnded) {
      socket.resume()
      await once(socket, 'end')
    }
    assert.equal(socket.readableEnded, true)
    socket.destroy(); l.close()
  })

  test('a client that closed without a byte: undefined, and readableEnded tells the pipe', async () => {
    const l = await listener()
    const client = net.connect(l.port, '127.0.0.1', () => client.end())
    const socket = await l.accepted()
    await once(client, 'finish')
    assert.equal(await firstBytesIfSent(socket), undefined)
    if (!socket.readableEnded) {
      socket.resume()
      await once(socket, 'end')
    }
    assert.equal(socket.readableEnded, true)
    socket.destroy(); l.close()
  })
})
