import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import { ExposeTable, ForwardTable, SCHEMA_VERSION, StoreCorrupt, StoreTooNew, getKv, openStore, setKv } from '../../src/store/index.js'
import { cleanupAll, tempDir } from '../helpers/cli.js'

describe('the profile database', () => {
  after(async () => { await cleanupAll() })

  test('created 0600 at the current schema; tables keep what is written', () => {
    const path = join(tempDir(), 'cspace.db')
    const store = openStore(path)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal((store.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION)
    setKv(store, 'presence.seq', '41')
    setKv(store, 'presence.seq', '42')
    new ExposeTable(store).put({ service: 'ssh', kind: 'tcp', target: '127.0.0.1:22' })
    new ForwardTable(store).put({ port: 2222, contact: 'bob', service: 'ssh' })
    store.close()
    const again = openStore(path)
    assert.equal(getKv(again, 'presence.seq'), '42')
    assert.deepEqual(new ExposeTable(again).list(), [{ service: 'ssh', kind: 'tcp', target: '127.0.0.1:22' }])
    assert.equal(new ForwardTable(again).remove(2222), true)
    assert.equal(new ForwardTable(again).remove(2222), false)
    again.close()
  })

  test('a failed transaction stores nothing', () => {
    const store = openStore(join(tempDir(), 'cspace.db'))
    assert.throws(() => store.transaction(() => {
      setKv(store, 'a', '1')
      throw new Error('crash in the middle')
    }))
    assert.equal(getKv(store, 'a'), undefined)
    store.close()
  })

  test('garbage, truncated and too-new files are refused and left untouched', () => {
    const dir = tempDir()
    const good = join(dir, 'good.db')
    const s = openStore(good)
    setKv(s, 'k', 'v'.repeat(10_000))
    s.close()
    const whole = readFileSync(good)
    const cases: Array<[string, Buffer]> = [
      ['garbage', Buffer.from('definitely not sqlite\n'.repeat(500))],
      ['truncated', whole.subarray(0, 100)],
      ['half', whole.subarray(0, Math.floor(whole.length / 2))]
    ]
    for (const [name, bytes] of cases) {
      const path = join(dir, `${name}.db`)
      writeFileSync(path, bytes)
      assert.throws(() => openStore(path), StoreCorrupt, name)
      assert.ok(readFileSync(path).equals(bytes), `${name} untouched`)
    }
    const future = join(dir, 'future.db')
    const db = new DatabaseSync(future)
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`)
    db.close()
    assert.throws(() => openStore(future), StoreTooNew)
  })
})
