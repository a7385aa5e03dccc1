import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { FILES_STORE_MIGRATIONS, FilesStore, LISTED_PATHS } from '../../../src/apps/files/store.js'
import type { Manifest } from '../../../src/apps/files/manifest.js'
import { appDataDir } from '../../../src/sdk/app-data.js'
import { Store, StoreUpgradeFailed } from '../../../src/store/index.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(removeTempDirs)

/** A manifest whose JSON is about `bytes` long, its paths marked with `tag`. */
function manifestOf (tag: string, bytes: number): Manifest {
  const files: Manifest['files'] = []
  for (let i = 0; files.length * 120 < bytes; i++) files.push({ path: `${tag}/${'p'.repeat(80)}-${i}`, size: i, mtime: 1_700_000_000_000 })
  return { v: 1, chunkSize: 65536, files } as unknown as Manifest
}

const insert = (store: FilesStore, id: string, manifest: Manifest): void => {
  store.insert({ id, senderUserId: 'u1', senderName: null, manifest, totalBytes: 0, fileCount: manifest.files.length, state: 'pending', partialDir: null })
}

/** How many manifest-sized JSON texts `fn` parses. */
function parsesIn (fn: () => void): number {
  const parse = JSON.parse
  let parsed = 0
  JSON.parse = (text: string, ...rest: unknown[]) => { if (text.length > 1 << 20) parsed++; return parse(text, ...(rest as [])) }
  try {
    fn()
  } finally {
    JSON.parse = parse
  }
  return parsed
}

const firstPaths = (m: Manifest): string[] => m.files.slice(0, LISTED_PATHS).map(f => f.path)

describe('FilesStore: listings without the manifests', () => {
  const home = tempDir('cspace-files-store-')
  const store = FilesStore.open(home)
  after(() => { store.close() })

  test(`a transfer is read with its chunk size and first ${LISTED_PATHS} paths, and no manifest is parsed (an 8 MiB one took 52-78 ms)`, () => {
    const manifest = manifestOf('listed', 2 << 20)
    assert.ok(manifest.files.length > LISTED_PATHS)
    insert(store, 'aaaa0001', manifest)
    const parsed = parsesIn(() => {
      for (const row of [store.get('aaaa0001'), store.find('aaaa'), store.list().find(r => r.id === 'aaaa0001')]) {
        assert.equal(row?.chunkSize, 65536)
        assert.deepEqual(row?.paths, firstPaths(manifest))
        assert.equal(row?.fileCount, manifest.files.length)
      }
    })
    assert.equal(parsed, 0)
  })

  test('the manifest is kept apart, whole, and a listing does not read it: one that is not JSON any more lists as before', () => {
    const manifest = manifestOf('garbled', 4096)
    insert(store, 'bbbb0001', manifest)
    const db = new DatabaseSync(join(appDataDir('files', { home }), 'files.db'))
    try {
      const kept = db.prepare('SELECT manifest FROM offers WHERE id = ?').get('bbbb0001') as { manifest: string }
      assert.deepEqual(JSON.parse(kept.manifest), manifest)
      db.prepare("UPDATE offers SET manifest = 'not json' WHERE id = ?").run('bbbb0001')
      const row = store.list().find(r => r.id === 'bbbb0001')
      assert.deepEqual(row?.paths, firstPaths(manifest))
      assert.equal(row?.chunkSize, 65536)
      store.remove('bbbb0001')
      assert.equal(db.prepare('SELECT COUNT(*) AS n FROM offers WHERE id = ?').get('bbbb0001')?.n, 0, 'removed with its transfer')
    } finally {
      db.close()
    }
  })
})

describe('FilesStore: a store of the first schema', () => {
  test('gets each transfer\'s chunk size and first paths from its manifest, in order; a manifest that is not JSON gets none, and its row stays', () => {
    const home = tempDir('cspace-files-migrate-')
    const path = join(appDataDir('files', { home }), 'files.db')
    const big = manifestOf('old', 300_000)
    const small = { ...manifestOf('small', 500), chunkSize: 1024 } as Manifest
    const old = Store.open(path, FILES_STORE_MIGRATIONS.slice(0, 1))
    const put = old.prepare(`INSERT INTO transfers (id, sender_user_id, sender_name, manifest, total_bytes, file_count, state, partial_dir, saved, created_at, updated_at)
      VALUES (?, 'u1', NULL, ?, 0, ?, 'pending', NULL, '[]', ?, 0)`)
    put.run('cccc0001', JSON.stringify(big), big.files.length, 1)
    put.run('cccc0002', JSON.stringify(small), small.files.length, 2)
    put.run('cccc0003', '{"files": [', 1, 3)
    // shapes no offer that passed parseOffer has: paths that are not text, files not a list
    put.run('cccc0004', '{"chunkSize": 4096, "files": [{"path": 7}, {"path": "kept"}, "x", {}]}', 4, 4)
    put.run('cccc0005', '{"files": {"0": {"path": "in an object"}}}', 1, 5)
    old.close()

    const store = FilesStore.open(home)
    try {
      assert.equal(statSync(`${path}-wal`).size, 0, 'the log the migration wrote is given back')
      const rows = store.list()
      assert.deepEqual(rows.map(r => r.id), ['cccc0001', 'cccc0002', 'cccc0003', 'cccc0004', 'cccc0005'])
      assert.deepEqual([rows[3].paths, rows[3].chunkSize], [['kept'], 4096])
      assert.deepEqual([rows[4].paths, rows[4].chunkSize], [[], 0])
      assert.deepEqual(rows[0].paths, firstPaths(big))
      assert.equal(rows[0].paths.length, LISTED_PATHS)
      assert.equal(rows[0].chunkSize, 65536)
      assert.deepEqual(rows[1].paths, small.files.map(f => f.path))
      assert.equal(rows[1].chunkSize, 1024)
      assert.deepEqual([rows[2].paths, rows[2].chunkSize], [[], 0])
    } finally {
      store.close()
    }
    // every manifest moved whole, the one that is not JSON too
    const db = new DatabaseSync(path)
    try {
      const offers = db.prepare('SELECT id, manifest FROM offers ORDER BY id').all() as Array<{ id: string, manifest: string }>
      assert.deepEqual(offers.map(o => o.manifest).slice(0, 3), [JSON.stringify(big), JSON.stringify(small), '{"files": ['])
      assert.equal(offers.length, 5)
      const columns = (db.prepare('PRAGMA table_info(transfers)').all() as Array<{ name: string }>).map(c => c.name)
      assert.equal(columns.includes('manifest'), false, 'no longer in the rows listings read')
    } finally {
      db.close()
    }
  })

  test('a migration that fails leaves the store as it was, and says so (not "corrupt")', () => {
    const home = tempDir('cspace-files-migrate-')
    const path = join(appDataDir('files', { home }), 'files.db')
    const old = Store.open(path, FILES_STORE_MIGRATIONS.slice(0, 1))
    old.prepare(`INSERT INTO transfers (id, sender_user_id, sender_name, manifest, total_bytes, file_count, state, partial_dir, saved, created_at, updated_at)
      VALUES ('dddd0001', 'u1', NULL, '{"files": []}', 0, 0, 'pending', NULL, '[]', 1, 0)`).run()
    old.prepare('CREATE TABLE offers (x)').run() // in the migration's way
    old.close()
    assert.throws(() => FilesStore.open(home), (err: Error) => err instanceof StoreUpgradeFailed &&
      /could not upgrade the store .*files\.db from schema version 1 to 2 \(table offers already exists\); it is unchanged/.test(err.message))
    const db = new DatabaseSync(path)
    try {
      assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 1)
      assert.deepEqual((db.prepare('SELECT id, manifest FROM transfers').all() as Array<{ id: string, manifest: string }>).map(r => [r.id, r.manifest]), [['dddd0001', '{"files": []}']])
    } finally {
      db.close()
    }
  })
})
