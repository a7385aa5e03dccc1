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

  test('response: a refusal\'s message reaches the caller with its control characters made harmless', async () => {
    const { caller, callee } = await pair()
    // a hostile callee's message, meant to retitle the caller's terminal and clear it
    callee.send(encodeResponse(ConnectStatus.NotAllowed, 'no\u001b]0;pwned\u0007\u001b[2J\r\u009b ünïcode'))
    await callee.close()
    const { response } = await readResponse(caller, AbortSignal.timeout(5000))
    assert.equal(response.status, ConnectStatus.NotAllowed)
    assert.equal(response.message, 'no?]0;pwned??[2J?? ünïcode')
    await caller.close()
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

  test('response: Asking, then the answer under the wait it asked for; in one message or two', async () => {
    for (const together of [true, false]) {
      const { caller, callee } = await pair()
      let asked = 0
      const reading = readResponse(caller, AbortSignal.timeout(5000), undefined, () => { asked++; return AbortSignal.timeout(5000) })
      if (together) {
        callee.send(Buffer.concat([encodeResponse(ConnectStatus.Asking), encodeResponse(ConnectStatus.Ok), Buffer.from('after')]))
      } else {
        callee.send(encodeResponse(ConnectStatus.Asking))
        await waitFor('the caller told of the question', () => asked === 1, 5000, 5)
        callee.send(Buffer.concat([encodeResponse(ConnectStatus.NotAllowed, 'no'), Buffer.from('after')]))
      }
      await callee.close()
      const { response, stream } = await reading
      assert.equal(asked, 1)
      assert.deepEqual(response, together ? { status: ConnectStatus.Ok, message: '' } : { status: ConnectStatus.NotAllowed, message: 'no' })
      assert.equal(await rest(stream), 'after')
      await caller.close()
    }
  })

  test('response: once Asking came, the first deadline no longer applies; the one for the answer does', async () => {
    const { caller, callee } = await pair()
    const first = new AbortController()
    const answer = new AbortController()
    let asked = false
    const reading = readResponse(caller, first.signal, undefined, () => { asked = true; return answer.signal })
    callee.send(encodeResponse(ConnectStatus.Asking))
    await waitFor('the caller told of the question', () => asked, 5000, 5)
    first.abort(new Error('connect deadline'))
    callee.send(encodeResponse(ConnectStatus.Ok))
    assert.equal((await reading).response.status, ConnectStatus.Ok)
    caller.abort(new Error('done'))

    // the callee never answers: the answer's deadline ends the wait
    const again = await pair()
    const answerDeadline = new AbortController()
    const stalled = readResponse(again.caller, new AbortController().signal, undefined, () => {
      queueMicrotask(() => { answerDeadline.abort(new Error('answer deadline')) })
      return answerDeadline.signal
    })
    again.callee.send(encodeResponse(ConnectStatus.Asking))
    await assert.rejects(stalled, /answer deadline/)
    again.caller.abort(new Error('done'))
  })

  test('response: a second Asking, or a truncated answer after Asking, is a protocol violation', async () => {
    const { caller, callee } = await pair()
    callee.send(Buffer.concat([encodeResponse(ConnectStatus.Asking), encodeResponse(ConnectStatus.Asking)]))
    await assert.rejects(readResponse(caller, AbortSignal.timeout(5000), undefined, () => AbortSignal.timeout(5000)), /twice/)
    caller.abort(new Error('done'))

    const cut = await pair()
    cut.callee.send(Buffer.concat([encodeResponse(ConnectStatus.Asking), Buffer.from([1, 0])]))
    await cut.callee.close()
    await assert.rejects(readResponse(cut.caller, AbortSignal.timeout(5000), undefined, () => AbortSignal.timeout(5000)), /the stream ended 2 bytes into a frame/)
    cut.caller.abort(new Error('done'))
  })

  test('response: another version, an unknown status, or a message cut short is a protocol violation', async () => {
    const cases: Array<[Buffer, boolean, RegExp]> = [
      [Buffer.from([2, 0, 0]), false, /the remote answered with connect protocol version 2/],
      [Buffer.from([1, 200, 0]), false, /the remote answered with unknown status 200/],
      [Buffer.from([1, ConnectStatus.NotAllowed, 10, 0x6e, 0x6f]), true, /the stream ended 5 bytes into a frame/],
      // what a caller reads when the other side hangs up while it asks its user
      [Buffer.alloc(0), true, /^Error: the other side closed the stream first$/]
    ]
    for (const [bytes, end, why] of cases) {
      const { caller, callee } = await pair()
      if (bytes.byteLength > 0) callee.send(bytes)
      if (end) await callee.close()
      await assert.rejects(readResponse(caller, AbortSignal.timeout(5000), undefined, () => AbortSignal.timeout(5000)), why)
      caller.abort(new Error('done'))
    }
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
