import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { OpenSessions } from '../../src/session/open-sessions.js'

/** As much of a stream as OpenSessions uses: its status, and abort. */
function fakeStream (): Stream & { aborted?: Error } {
  const s = { status: 'open', abort (err: Error) { s.status = 'aborted'; s.aborted = err } } as unknown as Stream & { aborted?: Error }
  return s
}

test('ends a caller\'s open sessions, and only theirs', () => {
  const open = new OpenSessions()
  const [a1, a2, b1] = [fakeStream(), fakeStream(), fakeStream()]
  open.add('alice', a1, 'files')
  open.add('alice', a2, 'files')
  open.add('bob', b1, 'chat')
  ;(a2 as { status: string }).status = 'closed' // ended on its own
  assert.equal(open.count('alice'), 1)
  assert.equal(open.endAll('alice', 'removed'), 1)
  assert.equal(a1.aborted?.message, 'removed')
  assert.equal(a2.aborted, undefined)
  assert.equal(b1.status, 'open')
  assert.equal(open.count('alice'), 0)
  assert.equal(open.endAll('nobody', 'x'), 0)
})

test('ends the open sessions a check says to end, by caller and service', () => {
  const open = new OpenSessions()
  const [files, chat, other] = [fakeStream(), fakeStream(), fakeStream()]
  open.add('alice', files, 'files')
  open.add('alice', chat, 'chat')
  open.add('bob', other, 'files')
  assert.equal(open.endWhere((peer, service) => peer === 'alice' && service === 'files', 'denied'), 1)
  assert.equal(files.aborted?.message, 'denied')
  assert.deepEqual([chat.status, other.status], ['open', 'open'])
  assert.equal(open.endWhere(() => true, 'all'), 2, 'an ended session is not ended twice')
})

test('ended sessions do not pile up: what is held stays near what is open', () => {
  const open = new OpenSessions()
  const live = fakeStream()
  open.add('keeper', live, 'files')
  for (let i = 0; i < 10_000; i++) {
    const s = fakeStream()
    open.add(`caller${i % 50}`, s, 'files')
    ;(s as { status: string }).status = 'closed'
  }
  const held = (open as unknown as { byCaller: Map<string, Set<Stream>> }).byCaller
  let total = 0
  for (const set of held.values()) total += set.size
  assert.ok(total + held.size < 300, `${total} sessions of ${held.size} callers held, 1 open`)
  assert.equal(open.count('keeper'), 1)
  assert.equal(open.endAll('keeper', 'removed'), 1)
})
