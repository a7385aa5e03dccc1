import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { atMostEvery } from '../../src/util/at-most-every.js'

test('atMostEvery: calls within the interval become one, after it; the next call starts a new interval; stop drops a pending one and ends it', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let runs = 0
    const changed = atMostEvery(1000, () => { runs++ })
    for (let i = 0; i < 100; i++) changed()
    mock.timers.tick(999)
    assert.equal(runs, 0, 'not before the interval')
    mock.timers.tick(1)
    assert.equal(runs, 1, 'the hundred calls folded into one')
    mock.timers.tick(5000)
    assert.equal(runs, 1, 'nothing without a new call')
    changed()
    mock.timers.tick(1000)
    assert.equal(runs, 2)
    changed()
    changed.stop()
    mock.timers.tick(5000)
    assert.equal(runs, 2, 'the pending one dropped')
    changed()
    mock.timers.tick(5000)
    assert.equal(runs, 2, 'nothing after stop')
  } finally {
    mock.timers.reset()
  }
})
