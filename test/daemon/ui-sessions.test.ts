import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN_TTL_MS, SESSION_IDLE_MS, UiSessions } from '../../src/daemon/ui-sessions.js'

describe('UiSessions', () => {
  test('a login token is spent once, for a session with its own CSRF token', () => {
    const sessions = new UiSessions()
    const { token } = sessions.issueLoginToken()
    const s = sessions.redeem(token)
    assert.ok(s != null)
    assert.notEqual(s.id, s.csrf)
    assert.equal(sessions.redeem(token), undefined, 'the second use fails')
    assert.equal(sessions.find(s.id), s)
    assert.equal(sessions.find('not' + s.id), undefined)
    assert.equal(sessions.find(undefined), undefined)
    assert.equal(sessions.find(''), undefined)
  })

  test('tokens expire unused; idle sessions are forgotten; logout ends a session', () => {
    let now = 1_000_000
    const sessions = new UiSessions(() => now)
    const late = sessions.issueLoginToken()
    now += LOGIN_TOKEN_TTL_MS + 1
    assert.equal(sessions.redeem(late.token), undefined)

    const s = sessions.redeem(sessions.issueLoginToken().token)!
    now += SESSION_IDLE_MS - 1
    assert.equal(sessions.find(s.id), s, 'used within the idle time: kept, and the clock restarts')
    now += SESSION_IDLE_MS - 1
    assert.equal(sessions.find(s.id), s)
    now += SESSION_IDLE_MS + 1
    assert.equal(sessions.find(s.id), undefined)

    const t = sessions.redeem(sessions.issueLoginToken().token)!
    sessions.end(t.id)
    assert.equal(sessions.find(t.id), undefined)
  })

  test('what a session opened is closed when it ends: logout, eviction, expiry; an open socket keeps it from idling out', () => {
    let now = 0
    const sessions = new UiSessions(() => now)
    const closed: string[] = []
    const s = sessions.redeem(sessions.issueLoginToken().token)!
    sessions.onEnd(s, () => closed.push('a'))
    const forgetB = sessions.onEnd(s, () => closed.push('b'))
    forgetB() // its socket closed first
    sessions.end(s.id)
    assert.deepEqual(closed, ['a'])
    sessions.onEnd(s, () => closed.push('late'))
    assert.deepEqual(closed, ['a', 'late'], 'a socket opened as its session ended is closed at once')

    const watching = sessions.redeem(sessions.issueLoginToken().token)!
    const forget = sessions.onEnd(watching, () => closed.push('watching'))
    now += SESSION_IDLE_MS * 3
    assert.equal(sessions.find(watching.id), watching, 'a page with a live socket is in use')
    forget()
    now += SESSION_IDLE_MS + 1
    assert.equal(sessions.find(watching.id), undefined)
    assert.deepEqual(closed, ['a', 'late'])

    const evicted = sessions.redeem(sessions.issueLoginToken().token)!
    sessions.onEnd(evicted, () => closed.push('evicted'))
    for (let i = 0; i < 32; i++) { now += 1; sessions.redeem(sessions.issueLoginToken().token) }
    assert.deepEqual(closed, ['a', 'late', 'evicted'], 'the least recently used session went, and its socket with it')
  })

  test('pending logins and sessions are bounded: the oldest give way', () => {
    let now = 0
    const sessions = new UiSessions(() => now)
    const first = sessions.issueLoginToken()
    for (let i = 0; i < 16; i++) sessions.issueLoginToken()
    assert.equal(sessions.redeem(first.token), undefined, 'the 17th pending login pushed out the first')

    const made = []
    for (let i = 0; i < 33; i++) {
      now += 1
      made.push(sessions.redeem(sessions.issueLoginToken().token)!)
    }
    assert.equal(sessions.find(made[0].id), undefined, 'the least recently used of 33 went')
    assert.ok(made.slice(1).every(s => sessions.find(s.id) === s))
  })
})
