import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { Stream } from '@libp2p/interface'
import type { NetworkNode } from '../../src/network/index.js'
import { createLoopbackPair } from '../helpers/nodes.js'
import { Duplex } from 'node:stream'
import { CONNECT_PROTOCOL, ConnectStatus, encodeRequest, encodeResponse, pipeSocketStream, readRequest, readResponse } from '../../src/session/index.js'
import { waitFor } from '../helpers/wait.js'

/** Everything left on the stream after the frame, until the remote's EOF. */
async function rest (stream: Stream): Promise<string> {
  let text = ''
  stream.addEventListener('message', (evt) => { text += Buffer.from(evt.data.subarray()).toString() })
  if (stream.readStatus !== 'closed') await once(stream as unknown as EventTarget, 'end')
  return text
}

/**
 * A frame, the application's first bytes and the sender's close can all arrive
 * before the reader looks (a service that answers and exits at once, or
 * `printf x | cspace connect`). The frame readers must hand back those bytes
 * and the EOF, not fail: once the stream saw the close with nothing buffered,
 * libp2p refuses to take bytes back into it.
 */
describe('connect frames that arrive together with data and the close', () => {
  let a: NetworkNode
  let b: NetworkNode

  before(async () => {
    [a, b] = await createLoopbackPair()
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  /** b opens a stream to a whose handler gets it; both ends are returned once a has it. */
  async function pair (): Promise<{ caller: Stream, callee: Stream }> {
    const incoming = new Promise<Stream>((resolve) => { void a.handle(CONNECT_PROTOCOL, (stream) => { resolve(stream) }) })
    await new Promise(resolve => setImmediate(resolve))
    const caller = await b.dialProtocol(a.getMultiaddrs()[0], CONNECT_PROTOCOL)
    const callee = await incoming
    await a.unhandle(CONNECT_PROTOCOL)
    return { caller, callee }
  }

  test('response: OK, data and EOF already in before readResponse', async () => {
    for (let i = 0; i < 5; i++) {
      const { caller, callee } = await pair()
      callee.send(Buffer.concat([encodeResponse(ConnectStatus.Ok), Buffer.from(`u${i}`)]))
      await callee.close()
      await once(caller as unknown as EventTarget, 'remoteCloseWrite')
      const { response, stream } = await readResponse(caller, AbortSignal.timeout(5000))
      assert.equal(response.status, ConnectStatus.Ok)
      assert.equal(await rest(stream), `u${i}`)
      await caller.close()
    }
  })

  test('request: service name, data and EOF already in before readRequest', async () => {
    const { caller, callee } = await pair()
    caller.send(Buffer.concat([encodeRequest('echo'), Buffer.from('hello')]))
    await caller.close()
    await once(callee as unknown as EventTarget, 'remoteCloseWrite')
    const { service, stream } = await readRequest(callee, AbortSignal.timeout(5000))
    assert.equal(service, 'echo')
    assert.equal(await rest(stream), 'hello')
    await callee.close()
  })

  test('response: OK and EOF with no data is a clean, empty stream', async () => {
    const { caller, callee } = await pair()
    callee.send(encodeResponse(ConnectStatus.Ok))
    await callee.close()
    await once(caller as unknown as EventTarget, 'remoteCloseWrite')
    const { response, stream } = await readResponse(caller, AbortSignal.timeout(5000))
    assert.equal(response.status, ConnectStatus.Ok)
    assert.equal(await rest(stream), '')
  })

  test('the pipe ends the local side when the FIN came after the answer, before it was attached', async () => {
    const { caller, callee } = await pair()
    callee.send(encodeResponse(ConnectStatus.Ok))
    const { stream } = await readResponse(caller, AbortSignal.timeout(5000))
    await callee.close() // the service answered nothing more and exited
    await once(caller as unknown as EventTarget, 'remoteCloseWrite')
    assert.notEqual(stream.readStatus, 'closed', 'the case at hand: ended, yet its readable end not marked closed')
    let ended = false
    const local = new Duplex({ read () {}, write (_c, _e, cb) { cb() }, final (cb) { ended = true; cb() } })
    const piped = pipeSocketStream(local, stream)
    await waitFor('the local side to get its EOF', () => ended, 5000, 10)
    local.push(null)
    await piped
  })

  test('the pipe ends the local side even when the stream ended before it was attached', async () => {
    const { caller, callee } = await pair()
    callee.send(encodeResponse(ConnectStatus.Ok))
    await callee.close()
    await once(caller as unknown as EventTarget, 'remoteCloseWrite')
    const { stream } = await readResponse(caller, AbortSignal.timeout(5000))
    await waitFor('the stream to finish reading', () => stream.readStatus === 'closed', 5000, 10)
    let ended = false
    const local = new Duplex({ read () {}, write (_c, _e, cb) { cb() }, final (cb) { ended = true; cb() } })
    const piped = pipeSocketStream(local, stream)
    await waitFor('the local side to get its EOF', () => ended, 5000, 10)
    local.push(null) // the application closes its side too: the session is over
    await piped
  })

  test('a stream closed both ways before the pipe is attached still delivers its last bytes, then EOF', async () => {
    const { caller, callee } = await pair()
    callee.send(Buffer.concat([encodeResponse(ConnectStatus.Ok), Buffer.from('last words')]))
    await callee.close()
    await once(caller as unknown as EventTarget, 'remoteCloseWrite')
    await caller.close()
    await waitFor('the stream to be closed both ways', () => caller.status === 'closed', 5000, 10)
    const { stream } = await readResponse(caller, AbortSignal.timeout(5000))
    let written = ''
    let ended = false
    const local = new Duplex({ read () {}, write (c: Buffer, _e, cb) { written += c.toString(); cb() }, final (cb) { ended = true; cb() } })
    const piped = pipeSocketStream(local, stream)
    await waitFor('the local side to get its EOF', () => ended, 5000, 10)
    assert.equal(written, 'last words')
    local.push(null)
    await piped
  })
})
