import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { execWhileLocked } from '../../src/util/sqlite-locked.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'

after(removeTempDirs)

// Another process holds the file's exclusive lock for a while, as a second
// instance starting on the same new database does.
const HOLDER = `
import { DatabaseSync } from 'node:sqlite'
const db = new DatabaseSync(process.argv[1])
db.exec('BEGIN EXCLUSIVE; CREATE TABLE t (x)')
process.stdout.write('locked\\n')
setTimeout(() => { db.exec('COMMIT'); db.close() }, Number(process.argv[2]))
`

test('a statement that needs a lock another process holds waits for it, within the limit', async () => {
  const path = join(tempDir('cspace-sqlite-locked-'), 'shared.db')
  // held long enough that the two refusals below surely come while it is held
  const holder = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, path, '2000'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await once(holder.stdout, 'data')
  const db = new DatabaseSync(path)
  assert.throws(() => { db.exec('PRAGMA journal_mode = WAL') }, /database is locked/, 'plain exec fails at once')
  assert.throws(() => { execWhileLocked(db, 'PRAGMA journal_mode = WAL', 50) }, /database is locked/, 'past its limit it gives up')
  const started = Date.now()
  execWhileLocked(db, 'PRAGMA journal_mode = WAL', 10_000)
  assert.ok(Date.now() - started < 10_000)
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
  assert.equal((db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'").get() as { n: number }).n, 1, 'after the holder committed')
  db.close()
  await once(holder, 'exit')
})
