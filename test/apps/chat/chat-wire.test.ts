import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ChatWireError, checkText, MAX_TEXT_BYTES, newMessageId, parseChatFrame } from '../../../src/apps/chat/index.js'

function code (m: Record<string, unknown>): string {
  try { parseChatFrame(m) } catch (err) { return (err as ChatWireError).wireCode }
  return 'ok'
}

test('valid frames parse to exactly their fields', () => {
  const id = newMessageId()
  assert.deepEqual(parseChatFrame({ v: 1, t: 'msg', id, at: 1764000000000, text: 'hi', extra: 'ignored' }), { v: 1, t: 'msg', id, at: 1764000000000, text: 'hi' })
  assert.deepEqual(parseChatFrame({ v: 1, t: 'ack', id }), { v: 1, t: 'ack', id })
  assert.deepEqual(parseChatFrame({ v: 1, t: 'typing', on: false }), { v: 1, t: 'typing', on: false })
  assert.deepEqual(parseChatFrame({ v: 1, t: 'error', code: 'NOPE', message: 'x'.repeat(1000) }), { v: 1, t: 'error', code: 'BAD_FRAME', message: 'x'.repeat(300) })
})

test('malformed frames are refused with the right code', () => {
  const id = newMessageId()
  assert.equal(code({ t: 'msg' }), 'UNSUPPORTED_VERSION')
  assert.equal(code({ v: '1', t: 'ack', id }), 'UNSUPPORTED_VERSION')
  assert.equal(code({ v: 1, t: 'msg', id: id.toUpperCase(), at: Date.now(), text: 'a' }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: 'msg', id: id + '0', at: Date.now(), text: 'a' }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: 'msg', id, at: 1.5e12 + 0.5, text: 'a' }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: 'msg', id, at: 9e15, text: 'a' }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: 'msg', id, at: Date.now(), text: 42 }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: 'msg', id, at: Date.now(), text: '' }), 'EMPTY')
  assert.equal(code({ v: 1, t: 'msg', id, at: Date.now(), text: '\ud800' }), 'BAD_UTF8')
  assert.equal(code({ v: 1, t: 'ack' }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: 'typing', on: 'yes' }), 'BAD_FRAME')
  assert.equal(code({ v: 1, t: '__proto__' }), 'BAD_FRAME')
})

test('a version or frame type nested too deep to print is refused with its code, not a stack overflow', () => {
  const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown
  assert.throws(() => parseChatFrame({ v: deep }), (err: ChatWireError) => err.wireCode === 'UNSUPPORTED_VERSION' && /version \(a list\) is not supported/.test(err.message))
  assert.throws(() => parseChatFrame({ v: 1, t: deep }), (err: ChatWireError) => err.wireCode === 'BAD_FRAME' && err.message === 'unknown frame type (a list)')
  assert.throws(() => parseChatFrame({ v: 1, t: '\u001b[2J' + 'x'.repeat(100) }), (err: ChatWireError) => err.message === `unknown frame type "?[2J${'x'.repeat(36)}"`)
})

test('the text limit is in UTF-8 bytes, not characters', () => {
  assert.equal(checkText('a'.repeat(MAX_TEXT_BYTES)).length, MAX_TEXT_BYTES)
  assert.throws(() => checkText('é'.repeat(MAX_TEXT_BYTES / 2 + 1)), /limit is 16384/)
  assert.throws(() => checkText('a'.repeat(MAX_TEXT_BYTES + 1)), (err: ChatWireError) => err.wireCode === 'TOO_LONG' && err.exitCode === 2)
})
