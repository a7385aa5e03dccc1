import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { holdResponseForFirstBytes } from '../../src/session/held-response.js'
import { readableEnded } from '../../src/session/pipe.js'
import { CONNECT_PROTOCOL } from '../../src/session/index.js'
import { negotiationAnswer } from '../../src/network/index.js'
import { startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { waitFor } from '../helpers/wait.js'

const OK = Uint8Array.from([1, 0, 0])

/** A stream that records what is sent and closed, as far as holdResponseForFirstBytes uses one. */
function recordingStream (): { stream: Stream, sent: string[], closed: () => boolean } {
  const sent: string[] = []
  let closed = false
  const target = new EventTarget()
  const stream = Object.assign(target, {
    writeStatus: 'writable',
    send (data: Uint8Array | Uint8ArrayList): boolean { sent.push(Buffer.from(data.subarray()).toString('hex')); return true },
    async close (): Promise<void> { closed = true; target.dispatchEvent(new Event('close')) }
  }) as unknown as Stream
  return { stream, sent, closed: () => closed }
}

const hex = (...parts: Array<Uint8Array | string>): string => Buffer.concat(parts.map(p => typeof p === 'string' ? Buffer.from(p) : p)).toString('hex')

/**
 * A callee holds its OK for a caller that sent bytes with its request, and
 * sends it in front of the service's first bytes: one message (and one
 * wake-up of the caller's daemon) fewer per session.
 */
describe('the OK held for the service\'s first bytes', () => {
  test('the first bytes carry the OK; later ones go as they are', () => {
    const { stream, sent } = recordingStream()
    holdResponseForFirstBytes(stream, OK, 60_000)
    stream.send(Buffer.from('one'))
    stream.send(Buffer.from('two'))
    assert.deepEqual(sent, [hex(OK, 'one'), hex('two')])
  })

  test('a service that closes without a byte: the OK goes first, then the close', async () => {
    const { stream, sent, closed } = recordingStream()
    holdResponseForFirstBytes(stream, OK, 60_000)
    await stream.close()
    assert.deepEqual(sent, [hex(OK)])
    assert.equal(closed(), true)
  })

  test('a silent service: the OK goes alone once the hold is over', async () => {
    const { stream, sent } = recordingStream()
    holdResponseForFirstBytes(stream, OK, 20)
    await waitFor('the held OK sent', () => sent.length > 0, 5000, 10)
    stream.send(Buffer.from('late'))
    assert.deepEqual(sent, [hex(OK), hex('late')])
  })

  test('a stream closed meanwhile (aborted) never sends the OK', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { stream, sent } = recordingStream()
    holdResponseForFirstBytes(stream, OK, 20)
    stream.dispatchEvent(new Event('close'))
    t.mock.timers.tick(1000) // far past the hold
    assert.deepEqual(sent, [])
  })

  describe('between two session managers', () => {
    let pair: EchoPair

    before(async () => {
      pair = await startEchoPair()
      pair.bobServices.register('silent', async (request) => {
        const stream = await request.accept()
        for await (const _ of stream) { /* reads, never answers */ }
        await stream.close()
      }, 'a test')
      pair.bobServices.register('hang-up', async (request) => {
        const stream = await request.accept()
        await stream.close()
      }, 'a test')
      await pair.alice.dial(pair.bob.getMultiaddrs()[0])
    })

    after(async () => { await pair?.stop() })

    /** The stream's 'message' events from now on, as the offsets where each ended. */
    function messageEnds (stream: Stream): { ends: number[], text: () => string } {
      const all = new Uint8ArrayList()
      const ends: number[] = []
      stream.addEventListener('message', (evt: StreamMessageEvent) => { all.append(evt.data); ends.push(all.byteLength) })
      return { ends, text: () => Buffer.from(all.subarray()).toString('latin1') }
    }

    test('early bytes: the OK arrives in one message with the echo, never alone', async () => {
      const { stream, accepted, onReply } = await pair.aliceSessions.connectEarly(pair.bobId, 'echo', { firstBytes: Promise.resolve(Buffer.from('early')) })
      const seen = messageEnds(stream)
      await accepted
      onReply()
      await waitFor('the echo', () => seen.text().endsWith('early'), 5000, 10)
      const okEnd = seen.text().length - 'early'.length
      assert.ok(!seen.ends.includes(okEnd), `a message ended with the OK: ends ${seen.ends.join(',')}, OK ends at ${okEnd}`)
      await stream.close()
    })

    test('no early bytes (an SDK connect waits for the OK): the OK is not held', async () => {
      const { stream, accepted } = await pair.aliceSessions.connectEarly(pair.bobId, 'echo')
      const seen = messageEnds(stream)
      await accepted
      const okEnd = seen.text().length
      stream.send(Buffer.from('later'))
      await waitFor('the echo', () => seen.text().endsWith('later'), 5000, 10)
      assert.ok(seen.ends.includes(okEnd), 'the OK came with the echo')
      await stream.close()
    })

    test('early bytes to a silent service: the OK still comes, alone, once the hold is over', async () => {
      const { stream, accepted } = await pair.aliceSessions.connectEarly(pair.bobId, 'silent', { firstBytes: Promise.resolve(Buffer.from('hello?')) })
      await accepted
      await stream.close()
    })

    test('early bytes to a service that hangs up at once: the OK, then the end', async () => {
      const { stream, accepted } = await pair.aliceSessions.connectEarly(pair.bobId, 'hang-up', { firstBytes: Promise.resolve(Buffer.from('bye')) })
      const seen = messageEnds(stream)
      await accepted
      await waitFor('the end of the stream', () => readableEnded(stream), 5000, 10)
      // behind the protocol's confirmation, if this connect had to propose it
      const ok = Buffer.from(OK).toString('latin1')
      assert.ok([ok, Buffer.from(negotiationAnswer(CONNECT_PROTOCOL)).toString('latin1') + ok].includes(seen.text()), `bytes besides the OK: ${JSON.stringify(seen.text())}`)
      assert.equal(stream.readBufferLength, 0)
    })
  })
})
