import { test } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair } from 'node:stream'
import { once } from 'node:events'
import { replyWriter } from '../../../src/apps/host/index.js'

const REPLY = Buffer.alloc(1000, 'r')

test('replies nobody reads pause reading from the peer; reading them resumes it', async () => {
  const [ours, peer] = duplexPair()
  ours.on('data', () => {}) // the host reads the peer's lines
  const reply = replyWriter(ours, 1 << 20)
  let sent = 0
  while (!ours.isPaused()) { reply(REPLY); sent++ }
  assert.ok(sent < 100, `paused after ${sent} unread replies (a 16 KiB buffer)`)
  assert.equal(ours.destroyed, false)
  reply(REPLY) // more while paused: written, not a second wait
  assert.equal(ours.listenerCount('drain'), 1)
  peer.resume() // the peer reads at last
  await once(ours, 'drain')
  assert.equal(ours.isPaused(), false, 'reading the peer goes on')
  ours.destroy()
})

test('a peer with more unread than the limit is cut off', () => {
  const [ours] = duplexPair()
  ours.on('data', () => {})
  const reply = replyWriter(ours, 64 * 1024)
  for (let i = 0; i < 100 && !ours.destroyed; i++) reply(REPLY)
  assert.equal(ours.destroyed, true)
  reply(REPLY) // after: nothing, and no throw
})
