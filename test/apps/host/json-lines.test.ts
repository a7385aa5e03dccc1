import { test } from 'node:test'
import assert from 'node:assert/strict'
import { JsonLineReader, LineError } from '../../../src/apps/host/index.js'

function readAll (chunks: Buffer[], max = 64): { out: unknown[], err?: LineError } {
  const r = new JsonLineReader(max)
  const out: unknown[] = []
  try {
    for (const c of chunks) out.push(...r.push(c))
  } catch (err) {
    return { out, err: err as LineError }
  }
  return { out }
}

test('lines split at every byte boundary give the same objects (multi-byte characters included)', () => {
  const text = Buffer.from('{"a":"héllo ☃"}\n{"b":[1,2]}\n\n{"c":null}\n')
  for (let i = 0; i <= text.length; i++) {
    const { out, err } = readAll([text.subarray(0, i), text.subarray(i)])
    assert.equal(err, undefined)
    assert.deepEqual(out, [{ a: 'héllo ☃' }, { b: [1, 2] }, { c: null }])
  }
})

test('too long: refused as soon as the limit is passed, with or without a newline in sight', () => {
  assert.equal(readAll([Buffer.from('{"a":"' + 'x'.repeat(100))]).err?.kind, 'too-long')
  assert.equal(readAll([Buffer.from('{"a":"' + 'x'.repeat(30)), Buffer.from('x'.repeat(40) + '"}\n')]).err?.kind, 'too-long')
  // exactly at the limit is fine
  const exact = '{"a":"' + 'x'.repeat(64 - 9) + '"}'
  assert.equal(Buffer.byteLength(exact), 63)
  assert.deepEqual(readAll([Buffer.from(exact + '\n')]).out, [{ a: 'x'.repeat(55) }])
})

test('invalid UTF-8, non-JSON and non-objects are errors of their own kind', () => {
  assert.equal(readAll([Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]).err?.kind, 'bad-utf8')
  assert.equal(readAll([Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22, 0x0a])]).err?.kind, 'bad-utf8', 'an encoded surrogate is not UTF-8')
  assert.equal(readAll([Buffer.from('{"a":\n')]).err?.kind, 'bad-json')
  assert.equal(readAll([Buffer.from('[1,2]\n')]).err?.kind, 'bad-json')
  assert.equal(readAll([Buffer.from('42\n')]).err?.kind, 'bad-json')
})

test('a truncated last line is held, not parsed, and counted', () => {
  const r = new JsonLineReader(64)
  assert.deepEqual(r.push(Buffer.from('{"a":1}\n{"b":')), [{ a: 1 }])
  assert.equal(r.buffered, 5)
})
