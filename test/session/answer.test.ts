import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import type { IncomingRequest } from '../../src/session/index.js'
import { CONNECT_PROTOCOL, ConnectStatus, encodeRequest } from '../../src/session/index.js'
import { startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { waitFor } from '../helpers/wait.js'

/** yamux's first receive window: what a stream may be sent before its reader grants more. */
const INITIAL_WINDOW = 256 * 1024

/**
 * What a caller can make the callee hold: a refused caller that never closes
 * is cut off and its bytes dropped; a request waiting for its service (a
 * prompt, a slow accept) holds at most one receive window of the caller's
 * bytes, and all of them reach the service once it accepts.
 */
describe('streams the callee has not handed to a service', () => {
  let pair: EchoPair
  const waiting: IncomingRequest[] = []

  before(async () => {
    pair = await startEchoPair()
    pair.bobServices.register('later', async (request) => { waiting.push(request) }, 'a test')
    await pair.alice.dial(pair.bob.getMultiaddrs()[0])
  })
  after(async () => { await pair?.stop() })

  const bobsStreams = (): Stream[] => pair.bob.getConnections(pair.alice.peerId).flatMap(c => c.streams).filter(s => s.protocol === CONNECT_PROTOCOL)

  test('a refused caller that keeps its stream open and sending is reset, not kept', async () => {
    const raw = await pair.alice.dialProtocol(pair.bob.peerId, CONNECT_PROTOCOL)
    const got: number[] = []
    raw.addEventListener('message', (evt) => { got.push(...evt.data.subarray()) })
    raw.send(encodeRequest('no-such-service'))
    raw.send(randomBytes(INITIAL_WINDOW / 2)) // and it never closes
    const answer = await waitFor('the refusal', () => got.length >= 3 && got, 10_000, 10)
    assert.equal(answer[1], ConnectStatus.NoSuchService)
    await waitFor('bob to reset the refused stream', () => raw.status !== 'open', 10_000, 20)
    assert.equal(raw.status, 'reset')
    assert.equal(bobsStreams().length, 0, 'bob holds nothing of it')
  })

  test('a request waiting for its service holds one window of the caller\'s bytes; the service then gets them all', async () => {
    const early = await pair.aliceSessions.connectEarly(pair.bobId, 'later')
    const payload = randomBytes(4 * INITIAL_WINDOW)
    early.stream.send(payload)
    await waitFor('the request at bob\'s service', () => waiting.length === 1, 10_000, 10)
    const [held] = bobsStreams()
    assert.equal(held.readStatus, 'paused', 'not read until the service takes it')
    await waitFor('bob to have what one window lets through', () => held.readBufferLength >= INITIAL_WINDOW / 2, 10_000, 10)
    assert.ok(held.readBufferLength <= INITIAL_WINDOW, `bob holds ${held.readBufferLength} bytes, more than one window`)
    assert.ok(early.stream.writeBufferLength >= payload.byteLength - INITIAL_WINDOW, 'the rest waits at the caller')

    const stream = await waiting[0].accept()
    const received: Buffer[] = []
    let length = 0
    for await (const chunk of stream) {
      received.push(Buffer.from(chunk.subarray()))
      length += chunk.byteLength
      if (length >= payload.byteLength) break
    }
    assert.ok(Buffer.concat(received).equals(payload), 'every byte, in order')
    early.stream.abort(new Error('done'))
  })
})
