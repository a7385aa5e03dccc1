import { describe, after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection, Stream } from '@libp2p/interface'
import { STRANGER_WAITING_STREAMS, WaitingStreams } from '../../src/session/waiting-streams.js'
import { CONNECT_PROTOCOL } from '../../src/session/index.js'
import { echoOnce, startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { createLoopbackNode } from '../helpers/nodes.js'
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

  test('counts in all up to its own limit; a stream that never entered frees nothing', () => {
    const w = new WaitingStreams(2, 3)
    assert.equal(w.enter('a'), true)
    assert.equal(w.enter('a'), true)
    assert.equal(w.enter('b'), true)
    assert.equal(w.enter('c'), false, 'a fourth in all is refused, on any connection')
    assert.equal(w.count(), 3)
    w.leave('c')
    assert.equal(w.count(), 3, 'c had none waiting')
    w.leave('a')
    assert.equal(w.enter('c'), true)
    assert.equal(w.count(), 3)
  })
})

/**
 * A stranger who opens connect streams and never sends a request may keep
 * only a few waiting; the rest are refused at once, and the callee goes on
 * serving. (bob has no contacts here: alice is a stranger.)
 */
describe('a stranger\'s idle connect streams', () => {
  const IN_ALL = STRANGER_WAITING_STREAMS + 4
  let pair: EchoPair
  before(async () => { pair = await startEchoPair({ bobInit: { strangersWaitingInAll: IN_ALL } }) })
  after(async () => { await pair.stop() })
  const waitingOnBob = (): Stream[] => pair.bob.getConnections().flatMap(c => c.streams).filter(s => s.protocol === CONNECT_PROTOCOL && s.status === 'open')

  /** Opens `n` connect streams on the connection without a request; bob may refuse one before the opener's negotiation ends, or just after. */
  async function openIdle (conn: Connection, n: number): Promise<Stream[]> {
    const idle: Stream[] = []
    for (let i = 0; i < n; i++) await conn.newStream(CONNECT_PROTOCOL).then(s => idle.push(s), () => {})
    return idle
  }

  test(`only ${STRANGER_WAITING_STREAMS} wait for a request; the others are refused, and a connect still works once they go`, async () => {
    const conn = await pair.alice.dial(pair.bob.getMultiaddrs()[0])
    const idle = await openIdle(conn, STRANGER_WAITING_STREAMS + 12)
    await waitFor(`bob keeps only ${STRANGER_WAITING_STREAMS} of alice's idle streams`, () => waitingOnBob().length === STRANGER_WAITING_STREAMS)
    await waitFor('alice sees the others end', () => idle.filter(s => s.status === 'open').length === STRANGER_WAITING_STREAMS)
    for (const s of idle) s.abort(new Error('done'))
    await waitFor('bob lets go of the waiting ones', () => waitingOnBob().length === 0)
    assert.equal(await echoOnce(pair, 'still serving'), 'still serving')
  })

  test(`strangers on two connections share a limit in all (${IN_ALL} here); a connect works again once they go`, async () => {
    await pair.alice.hangUp(pair.bob.peerId) // and with it the spare streams the last connect left
    await waitFor('bob has none waiting', () => waitingOnBob().length === 0)
    const carol = await createLoopbackNode()
    try {
      const fromAlice = await openIdle(await pair.alice.dial(pair.bob.getMultiaddrs()[0]), STRANGER_WAITING_STREAMS)
      await waitFor('alice\'s streams wait on bob', () => waitingOnBob().length === STRANGER_WAITING_STREAMS)
      const fromCarol = await openIdle(await carol.dial(pair.bob.getMultiaddrs()[0]), STRANGER_WAITING_STREAMS)
      await waitFor(`bob keeps only ${IN_ALL} in all`, () => waitingOnBob().length === IN_ALL)
      await waitFor('carol sees the others end', () => fromCarol.filter(s => s.status === 'open').length === IN_ALL - STRANGER_WAITING_STREAMS)
      await assert.rejects(echoOnce(pair, 'while full'), /busy|too many/i, 'a stranger\'s connect is refused while all places are taken')
      for (const s of [...fromAlice, ...fromCarol]) s.abort(new Error('done'))
      await waitFor('bob lets go of the waiting ones', () => waitingOnBob().length === 0)
      assert.equal(await echoOnce(pair, 'still serving'), 'still serving')
    } finally {
      await carol.stop()
    }
  })
})
