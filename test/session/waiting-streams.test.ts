import { describe, after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { STRANGER_WAITING_STREAMS, WaitingStreams } from '../../src/session/waiting-streams.js'
import { CONNECT_PROTOCOL } from '../../src/session/index.js'
import { echoOnce, startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { waitFor } from '../helpers/wait.js'

describe('WaitingStreams', () => {
  test('counts per connection up to the limit, and frees a place when a stream leaves', () => {
    const w = new WaitingStreams(2)
    assert.equal(w.enter('a'), true)
    assert.equal(w.enter('a'), true)
    assert.equal(w.enter('a'), false, 'a third on the same connection is refused')
    assert.equal(w.enter('b'), true, 'another connection has its own count')
    assert.equal(w.count('a'), 2)
    w.leave('a')
    assert.equal(w.enter('a'), true)
    w.leave('a')
    w.leave('a')
    w.leave('b')
    assert.equal(w.count('a'), 0)
    assert.equal(w.count('b'), 0)
  })
})

/**
 * A stranger who opens connect streams and never sends a request may keep
 * only a few waiting; the rest are refused at once, and the callee goes on
 * serving. (bob has no contacts here: alice is a stranger.)
 */
describe('a stranger\'s idle connect streams', () => {
  let pair: EchoPair
  before(async () => { pair = await startEchoPair() })
  after(async () => { await pair.stop() })

  test(`only ${STRANGER_WAITING_STREAMS} wait for a request; the others are refused, and a connect still works once they go`, async () => {
    const conn = await pair.alice.dial(pair.bob.getMultiaddrs()[0])
    const idle: Stream[] = []
    let refused = 0
    for (let i = 0; i < STRANGER_WAITING_STREAMS + 12; i++) {
      // bob may refuse before alice's side of the negotiation ends, or just after
      await conn.newStream(CONNECT_PROTOCOL).then(s => idle.push(s), () => refused++)
    }
    assert.ok(refused <= 12, `${refused} refused`)
    const onBob = (): Stream[] => pair.bob.getConnections(pair.alice.peerId).flatMap(c => c.streams).filter(s => s.protocol === CONNECT_PROTOCOL && s.status === 'open')
    await waitFor(`bob keeps only ${STRANGER_WAITING_STREAMS} of alice's idle streams`, () => onBob().length === STRANGER_WAITING_STREAMS)
    await waitFor('alice sees the others end', () => idle.filter(s => s.status === 'open').length === STRANGER_WAITING_STREAMS)
    for (const s of idle) s.abort(new Error('done'))
    await waitFor('bob lets go of the waiting ones', () => onBob().length === 0)
    assert.equal(await echoOnce(pair, 'still serving'), 'still serving')
  })
})
