import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { RuleBook } from '../../src/session/rule-book.js'
import { parseRule } from '../../src/session/permissions.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'

const opened: Store[] = []
after(() => { for (const s of opened) s.close(); removeTempDirs() })

/** One profile store, opened as the daemon and as another process (the CLI) would. */
function openTwice (): { daemon: Store, other: Store } {
  const path = join(tempDir(), 'cspace.db')
  const daemon = Store.open(path)
  const other = Store.open(path)
  opened.push(daemon, other)
  return { daemon, other }
}

test('the rule book\'s own writes are seen by its next check at once, in order', () => {
  const { daemon } = openTwice()
  const book = new RuleBook({ store: daemon })
  assert.deepEqual(book.list(), [])
  const deny = book.add(parseRule('deny', 'alice', 'files'))
  book.add(parseRule('allow', 'anyone', 'chat'), 0)
  assert.deepEqual(book.entries().map(e => e.text), ['allow anyone chat', 'deny alice files'])
  book.remove(deny.id)
  assert.deepEqual(book.entries().map(e => e.text), ['allow anyone chat'])
  // what a caller does to the list it got does not reach the book
  book.entries().pop()
  assert.equal(book.list().length, 1)
})

test('another process\'s commit is read after reload (the daemon\'s store watcher calls it)', () => {
  const { daemon, other } = openTwice()
  const book = new RuleBook({ store: daemon })
  assert.deepEqual(book.list(), [])
  new RuleBook({ store: other }).add(parseRule('deny', 'anyone', '*'))
  assert.deepEqual(book.list(), [], 'kept in memory until told')
  book.reload()
  assert.deepEqual(book.entries().map(e => e.text), ['deny anyone *'])
})

test('a refused removal changes nothing', () => {
  const { daemon } = openTwice()
  const book = new RuleBook({ store: daemon })
  book.add(parseRule('allow', 'bob', 'ssh'))
  assert.throws(() => book.remove(999), /no rule with id 999/)
  assert.deepEqual(book.entries().map(e => e.text), ['allow bob ssh'])
})
