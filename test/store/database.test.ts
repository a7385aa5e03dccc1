import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import {
  ExposeTable, ForwardTable, SCHEMA_VERSION, Store as StoreClass, StoreCorrupt, StoreTooNew, StoreUnavailable, getKv, openStore, setKv, type Store
} from '../../src/store/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'


function userVersion (store: Store): number {
  return (store.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
}

/** A real cspace database with some content, closed, as bytes. */
function goodDatabaseBytes (): Buffer {
  const path = join(tempDir(), 'cspace.db')
  const s = openStore(path)
  for (let i = 0; i < 20; i++) setKv(s, `k${i}`, 'v'.repeat(4000))
  s.close()
  return readFileSync(path)
}

describe('the profile database', () => {
  after(removeTempDirs)

  test('a new database is created 0600 with every table at the current schema version', () => {
    const path = join(tempDir(), 'cspace.db')
    const store = openStore(path)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal(SCHEMA_VERSION, 3)
    assert.equal(userVersion(store), SCHEMA_VERSION)
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map(r => r.name)
    assert.deepEqual(tables, ['contacts', 'exposes', 'forwards', 'kv', 'rules'])
    assert.equal((store.db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
    assert.equal((store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2, 'FULL')
    assert.equal((store.db.prepare('PRAGMA foreign_keys').get() as { foreign_keys: number }).foreign_keys, 1)
    setKv(store, 'x', 'y')
    for (const f of readdirSync(join(path, '..'))) {
      assert.equal(statSync(join(path, '..', f)).mode & 0o077, 0, `${f} is private`)
    }
    store.close()
    assert.doesNotThrow(() => store.close(), 'closing twice is harmless')
  })

  test('kv, exposes and forwards keep what is written across close and reopen', () => {
    const path = join(tempDir(), 'cspace.db')
    const store = openStore(path)
    assert.equal(getKv(store, 'presence.seq'), undefined)
    setKv(store, 'presence.seq', '41')
    setKv(store, 'presence.seq', '42')
    const exposes = new ExposeTable(store)
    exposes.put({ service: 'ssh', kind: 'tcp', target: '127.0.0.1:22', maxSessions: 4 })
    exposes.put({ service: 'web', kind: 'tcp', target: '127.0.0.1:80', maxSessions: 9 })
    exposes.put({ service: 'web', kind: 'exec', target: 'cat' })
    assert.throws(() => exposes.put({ service: 'x', kind: 'udp' as 'tcp', target: 'y' }), /CHECK constraint/)
    const forwards = new ForwardTable(store)
    forwards.put({ port: 2222, contact: 'bob', service: 'ssh' })
    forwards.put({ port: 8080, contact: 'carol', service: 'web' })
    forwards.put({ port: 8080, contact: 'carol', service: 'www' })
    store.close()

    const again = openStore(path)
    assert.equal(getKv(again, 'presence.seq'), '42')
    const e = new ExposeTable(again)
    assert.deepEqual(e.list(), [
      { service: 'ssh', kind: 'tcp', target: '127.0.0.1:22', maxSessions: 4 },
      { service: 'web', kind: 'exec', target: 'cat' } // replaced without a cap: none
    ])
    assert.deepEqual(e.get('ssh'), { service: 'ssh', kind: 'tcp', target: '127.0.0.1:22', maxSessions: 4 })
    assert.equal(e.get('nope'), undefined)
    assert.equal(e.remove('ssh'), true)
    assert.equal(e.remove('ssh'), false)
    assert.equal(e.get('ssh'), undefined)
    const f = new ForwardTable(again)
    assert.deepEqual(f.list(), [
      { port: 2222, contact: 'bob', service: 'ssh' },
      { port: 8080, contact: 'carol', service: 'www' }
    ])
    assert.equal(f.remove(2222), true)
    assert.equal(f.remove(2222), false)
    assert.deepEqual(f.list().map(r => r.port), [8080])
    again.close()
  })

  test('two connections (daemon and CLI) see each other\'s committed writes', () => {
    const path = join(tempDir(), 'cspace.db')
    const a = openStore(path)
    const b = openStore(path)
    setKv(a, 'from', 'a')
    assert.equal(getKv(b, 'from'), 'a')
    a.close()
    b.close()
  })

  test('a failed transaction stores nothing; a nested one rolls back only itself', async () => {
    const store = openStore(join(tempDir(), 'cspace.db'))
    assert.throws(() => store.transaction(() => {
      setKv(store, 'a', '1')
      throw new Error('crash in the middle')
    }), /crash in the middle/)
    assert.equal(getKv(store, 'a'), undefined)
    assert.equal(store.db.isTransaction, false)

    const result = store.transaction(() => {
      setKv(store, 'outer', '1')
      assert.throws(() => store.transaction(() => {
        setKv(store, 'inner', '1')
        throw new Error('inner fails')
      }))
      store.transaction(() => setKv(store, 'inner2', '1'))
      return 'done'
    })
    assert.equal(result, 'done')
    assert.equal(getKv(store, 'outer'), '1')
    assert.equal(getKv(store, 'inner'), undefined)
    assert.equal(getKv(store, 'inner2'), '1')

    assert.throws(() => store.transaction(async () => { setKv(store, 'async', '1') }), /synchronous/)
    assert.equal(getKv(store, 'async'), undefined)
    store.close()
  })

  test('damaged files are refused with StoreCorrupt and left byte-for-byte untouched', () => {
    const whole = goodDatabaseBytes()
    const zeroedPages = Buffer.concat([whole.subarray(0, 4096), Buffer.alloc(whole.length - 4096)])
    const cases: Array<[string, Buffer]> = [
      ['garbage', Buffer.from('definitely not sqlite\n'.repeat(500))],
      ['random', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256))],
      ['header only', whole.subarray(0, 16)],
      ['truncated', whole.subarray(0, 100)],
      ['half', whole.subarray(0, Math.floor(whole.length / 2))],
      ['zeroed pages', zeroedPages]
    ]
    for (const [name, bytes] of cases) {
      const dir = tempDir()
      const path = join(dir, 'cspace.db')
      writeFileSync(path, bytes)
      assert.throws(() => openStore(path), (err: Error) => {
        assert.ok(err instanceof StoreCorrupt, `${name}: ${err.message}`)
        assert.equal(err.code, 'STORE_CORRUPT')
        assert.equal(err.exitCode, 1)
        assert.ok(err.message.includes(path), 'names the file')
        assert.match(err.message, /is corrupt \(.+\); restore it from a backup, or move it away to start a new profile$/)
        assert.ok(!err.message.includes('\n'), 'one line')
        return true
      }, name)
      assert.ok(readFileSync(path).equals(bytes), `${name}: bytes untouched`)
      assert.deepEqual(readdirSync(dir), ['cspace.db'], `${name}: no files created beside it`)
    }
  })

  test('an SQLite file that is not a cspace store is refused, not migrated into', () => {
    const path = join(tempDir(), 'cspace.db')
    const db = new DatabaseSync(path)
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY)')
    db.close()
    const before = readFileSync(path)
    assert.throws(() => openStore(path), (err: Error) => err instanceof StoreCorrupt && /not a cspace store/.test(err.message))
    assert.ok(readFileSync(path).equals(before))
  })

  test('a database from a newer cspace is refused with StoreTooNew', () => {
    const path = join(tempDir(), 'cspace.db')
    const db = new DatabaseSync(path)
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`)
    db.close()
    const before = readFileSync(path)
    assert.throws(() => openStore(path), (err: Error) =>
      err instanceof StoreTooNew && err.code === 'STORE_TOO_NEW' && err.message.includes(`schema version ${SCHEMA_VERSION + 5}`) && /upgrade cspace/.test(err.message))
    assert.ok(readFileSync(path).equals(before))
  })

  test('a migration that drops large rows gives their space back: no log kept, no free pages left', () => {
    const path = join(tempDir(), 'app.db')
    const first = ['CREATE TABLE big (x TEXT)']
    const s = StoreClass.open(path, first)
    const put = s.prepare('INSERT INTO big VALUES (?)')
    s.transaction(() => { for (let i = 0; i < 40; i++) put.run('x'.repeat(1 << 20)) })
    s.close()
    assert.ok(statSync(path).size > 40 << 20)
    const migrated = StoreClass.open(path, [...first, 'DROP TABLE big; CREATE TABLE small (y TEXT)'])
    try {
      assert.equal((migrated.db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count, 0)
      assert.ok(statSync(path).size < 1 << 20, `${statSync(path).size} bytes`)
      assert.equal(statSync(`${path}-wal`).size, 0)
    } finally {
      migrated.close()
    }
  })

  test('a missing profile directory is StoreUnavailable, not corruption, and creates nothing', () => {
    const path = join(tempDir(), 'missing', 'cspace.db')
    assert.throws(() => openStore(path), (err: Error) => err instanceof StoreUnavailable && err.message.includes(path))
    assert.equal(existsSync(path), false)
  })
})
