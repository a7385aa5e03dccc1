import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { ChatStore, newMessageId } from '../../../src/apps/chat/index.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(() => removeTempDirs())

test('an incoming message is stored once however often it comes; a repeated ack changes nothing', () => {
  const store = ChatStore.open(tempDir())
  const id = newMessageId()
  assert.equal(store.receive('bob', id, 1764000000000, 'hi').fresh, true)
  assert.equal(store.receive('bob', id, 1764000000000, 'hi (changed on the way?)').fresh, false)
  assert.deepEqual(store.history('bob', 10).map(m => m.text), ['hi'])
  const out = store.addOutgoing('bob', newMessageId(), 'yo')
  assert.equal(store.markDelivered('bob', out.id)?.state, 'delivered')
  assert.equal(store.markDelivered('bob', out.id), undefined)
  assert.equal(store.markFailed('bob', out.id, 'late'), undefined, 'a delivered message cannot become failed')
  store.close()
})

test('markRead stops at what was shown; unread counts per peer; old queued messages are given up', () => {
  let now = 1764000000000
  const store = ChatStore.open(tempDir(), () => now)
  const a = store.receive('alice', newMessageId(), now, 'one').message
  store.receive('alice', newMessageId(), now, 'two')
  store.receive('carol', newMessageId(), now, 'three')
  assert.equal(store.markRead('alice', a.seq), 1)
  assert.deepEqual(store.unreadCounts().map(u => ({ ...u })), [{ peer: 'alice', count: 1 }, { peer: 'carol', count: 1 }])
  const q = store.addOutgoing('dave', newMessageId(), 'are you there?')
  now += 7 * 24 * 3600_000 + 1
  assert.deepEqual(store.expire(7 * 24 * 3600_000).map(m => m.id), [q.id])
  assert.equal(store.history('dave', 1)[0].state, 'failed')
  assert.deepEqual(store.peersWithQueued(), [])
  store.close()
})

test('the database survives reopening (it is the app\'s own file in the profile)', () => {
  const home = tempDir()
  const s1 = ChatStore.open(home)
  s1.addOutgoing('bob', newMessageId(), 'kept')
  s1.close()
  const s2 = ChatStore.open(home)
  assert.deepEqual(s2.queued('bob').map(m => m.text), ['kept'])
  s2.close()
})
