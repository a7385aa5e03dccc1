import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { waitFor } from '../helpers/wait.js'
import { startEchoPair, type EchoPair } from '../helpers/sessions.js'
import type { NetworkNode } from '../../src/network/index.js'
import { CONNECT_PROTOCOL, type SessionManager } from '../../src/session/index.js'
import { SPARES_PER_CONNECTION } from '../../src/session/spare-streams.js'

/** Echoes one chunk back and closes. */
async function echoOnce (stream: Stream, text: string): Promise<string> {
  stream.send(Buffer.from(text))
  const chunks: Buffer[] = []
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk.subarray()))
    if (Buffer.concat(chunks).length >= text.length) break
  }
  await stream.close()
  return Buffer.concat(chunks).toString()
}

/**
 * Spare connect streams (session/spare-streams.ts): after a connect, streams
 * are negotiated ahead for the next ones, which take them and skip the
 * multistream-select round trip; a stopped manager leaves none behind.
 */
describe('spare connect streams', () => {
  let pair: EchoPair
  let alice: NetworkNode
  let bob: NetworkNode
  let aliceSessions: SessionManager
  let bobId: string

  before(async () => {
    pair = await startEchoPair()
    ;({ alice, bob, aliceSessions, bobId } = pair)
    await alice.dial(bob.getMultiaddrs()[0])
  })

  after(async () => {
    await pair?.stop()
  })

  const connectStreams = (): Stream[] => alice.getConnections(bob.peerId).flatMap(c => c.streams).filter(s => s.protocol === CONNECT_PROTOCOL && s.status === 'open')

  /** Alice's open outbound streams to bob, negotiated or not, but none of another protocol (kad-dht's self-query may open one at any time). */
  const outbound = (): Stream[] => alice.getConnections(bob.peerId).flatMap(c => c.streams)
    .filter(s => s.direction === 'outbound' && s.status === 'open' && (s.protocol == null || s.protocol === CONNECT_PROTOCOL))
  /** Once the only outbound streams besides `except` are SPARES_PER_CONNECTION negotiated spares: those. */
  const spares = async (what: string, except?: Stream): Promise<Stream[]> => await waitFor(what, () => {
    const s = outbound().filter(x => x.id !== except?.id)
    return s.length === SPARES_PER_CONNECTION && s.every(x => x.protocol === CONNECT_PROTOCOL) ? s : undefined
  })

  test('the next connect takes a stream negotiated after the previous one; two are kept', async () => {
    const first = await aliceSessions.connect(bobId, 'echo')
    const ready = await spares('the spares', first)
    assert.equal(await echoOnce(first, 'one'), 'one')
    const second = await aliceSessions.connect(bobId, 'echo')
    assert.ok(ready.some(s => s.id === second.id), 'a spare carried the second session')
    assert.equal(await echoOnce(second, 'two'), 'two')
    const next = await spares('the spares topped up', second)
    assert.ok(next.some(s => !ready.includes(s)), 'a new one replaced the one taken')
    assert.equal(outbound().filter(s => s.id !== second.id).length, SPARES_PER_CONNECTION, 'never more')
  })

  test('spares that died are not used; the connect opens a fresh stream', async () => {
    const dead = await spares('the spares')
    for (const s of dead) s.abort(new Error('test: the spare is gone'))
    const stream = await aliceSessions.connect(bobId, 'echo')
    assert.ok(!dead.some(s => s.id === stream.id))
    assert.equal(await echoOnce(stream, 'fresh'), 'fresh')
  })

  test('an early session opens its spare only once told its first reply came', async () => {
    const previous = await spares('the spares the previous tests left')
    const { stream, accepted, onReply } = await aliceSessions.connectEarly(bobId, 'echo')
    assert.ok(previous.some(s => s.id === stream.id), 'a spare carries it')
    stream.send(Buffer.from('early'))
    await accepted
    assert.deepEqual(outbound().map(s => s.id).sort(), previous.map(s => s.id).sort(), 'no new spare while the first round trip is under way')
    onReply()
    onReply() // once is enough
    await spares('the spares topped up', stream)
    assert.equal(await echoOnce(stream, ''), 'early')
    assert.equal(outbound().filter(s => s.id !== stream.id).length, SPARES_PER_CONNECTION, 'however often onReply is called')
  })

  test('stopping the session manager closes its spares', async () => {
    await waitFor('a spare stream', () => connectStreams().length > 0)
    await aliceSessions.stop()
    await waitFor('no connect stream left', () => connectStreams().length === 0)
  })
})
