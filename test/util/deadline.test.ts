import { test } from 'node:test'
import assert from 'node:assert/strict'
import { settledWithin } from '../../src/util/deadline.js'

test('settledWithin: true for work that resolves or rejects in time, false for work that never ends', async () => {
  assert.equal(await settledWithin(Promise.resolve(1), 1000), true)
  assert.equal(await settledWithin(Promise.reject(new Error('stop failed')), 1000), true)
  assert.equal(await settledWithin(new Promise(() => {}), 50), false)
})
