import { test } from 'node:test'
import assert from 'node:assert/strict'
import { describeWireValue } from '../../src/util/wire-value.js'

test('a peer\'s value in an error: strings cut and made printable, scalars as they are, never a structure', () => {
  assert.equal(describeWireValue('files'), '"files"')
  assert.equal(describeWireValue('\u001b]0;owned\u0007' + 'x'.repeat(100), 10), '"?]0;owned?"')
  assert.equal(describeWireValue(2), '2')
  assert.equal(describeWireValue(null), 'null')
  assert.equal(describeWireValue(undefined), 'undefined')
  assert.equal(describeWireValue(false), 'false')
  assert.equal(describeWireValue({ a: 1 }), '(an object)')
  // JSON.parse reads this nesting iteratively; JSON.stringify and String() overflow the stack on it
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown
  assert.throws(() => JSON.stringify(deep), RangeError)
  assert.equal(describeWireValue(deep), '(a list)')
})
