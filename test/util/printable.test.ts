import { test } from 'node:test'
import assert from 'node:assert/strict'
import { printable } from '../../src/util/printable.js'

test('network text is printable: escape sequences, carriage returns and line separators cannot redraw the terminal', () => {
  assert.equal(printable('\r\u001b[2K\u001b[32mok\u009b'), '??[2K?[32mok?')
  assert.equal(printable('a\u2028b\nc\u007f'), 'a?b?c?')
  assert.equal(printable('plain, ünïcode ok'), 'plain, ünïcode ok')
  // bidi overrides would make the rest of the line read backwards
  assert.equal(printable('file\u202egpj.exe \u2066x\u2069'), 'file?gpj.exe ?x?')
})
