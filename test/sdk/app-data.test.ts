import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { appDataDir, openAppStore } from '../../src/sdk/index.js'
import { StoreCorrupt, StoreTooNew } from '../../src/store/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'

after(() => removeTempDirs())

test('an app gets a private directory and database in the profile, migrated in order', () => {
  const home = tempDir()
  const dir = appDataDir('notes', { home })
  assert.equal(dir, join(home, 'apps', 'notes'))
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  assert.equal(statSync(join(home, 'apps')).mode & 0o777, 0o700)
  const v1 = ['CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)']
  const s1 = openAppStore('notes', v1, { home })
  s1.prepare('INSERT INTO notes (body) VALUES (?)').run('kept')
  s1.close()
  assert.equal(statSync(join(dir, 'notes.db')).mode & 0o777, 0o600)
  const s2 = openAppStore('notes', [...v1, 'ALTER TABLE notes ADD COLUMN at INTEGER'], { home })
  assert.deepEqual(s2.prepare('SELECT body, at FROM notes').all().map(r => ({ ...r })), [{ body: 'kept', at: null }])
  s2.close()
  // an older app version refuses the newer database instead of misreading it
  assert.throws(() => openAppStore('notes', v1, { home }), StoreTooNew)
})

test('bad app names and damaged databases are refused with the reason', () => {
  const home = tempDir()
  for (const bad of ['', '../x', 'Notes', 'a/b', 'x'.repeat(40)]) assert.throws(() => appDataDir(bad, { home }), /is not an application name/)
  writeFileSync(join(appDataDir('broken', { home }), 'broken.db'), 'not a database at all, just text that is long enough')
  assert.throws(() => openAppStore('broken', ['CREATE TABLE t (x)'], { home }), StoreCorrupt)
})
