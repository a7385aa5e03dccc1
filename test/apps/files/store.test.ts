import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { FilesStore, MANIFEST_CACHE_BYTES } from '../../../src/apps/files/store.js'
import type { Manifest } from '../../../src/apps/files/manifest.js'
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

describe('FilesStore: manifests read once, within a bound', () => {
  const store = FilesStore.open(tempDir('cspace-files-store-'))
  after(() => { store.close() })

  test('a transfer read again and again parses its manifest once (it was parsed on every read: ~100 ms for 8 MiB)', () => {
    const manifest = manifestOf('once', 2 << 20)
    insert(store, 'aaaa0001', manifest)
    const parsed = parsesIn(() => {
      for (let i = 0; i < 10; i++) assert.deepEqual(store.get('aaaa0001')?.manifest, manifest)
      assert.equal(store.find('aaaa')?.manifest.files.length, manifest.files.length)
      assert.equal(store.list().find(r => r.id === 'aaaa0001')?.manifest.files.length, manifest.files.length)
    })
    assert.equal(parsed, 1)
  })

  test(`manifests past ${MANIFEST_CACHE_BYTES / 2 ** 20} MiB in all are let go, least recently used first, and read again whole`, () => {
    const ids = Array.from({ length: 12 }, (_, i) => `bbbb${String(i).padStart(4, '0')}`)
    const manifests = new Map(ids.map(id => [id, manifestOf(id, 4 << 20)]))
    for (const [id, m] of manifests) insert(store, id, m)
    for (const id of ids) {
      assert.deepEqual(store.get(id)?.manifest, manifests.get(id))
      assert.ok(store.cachedManifestBytes <= MANIFEST_CACHE_BYTES, `${store.cachedManifestBytes} bytes kept`)
    }
    // the most recently read are kept, the first were let go; read again, each is whole
    assert.equal(parsesIn(() => { store.get(ids[11]); store.get(ids[10]) }), 0)
    assert.equal(parsesIn(() => { assert.deepEqual(store.get(ids[0])?.manifest, manifests.get(ids[0])) }), 1)
    assert.equal(parsesIn(() => { store.get(ids[0]) }), 0)
    assert.ok(store.cachedManifestBytes > MANIFEST_CACHE_BYTES / 2, 'the bound is used, not cleared')
  })

  test('a removed transfer\'s manifest is let go; one inserted again under its ID reads back', () => {
    const m = manifestOf('again', 1 << 20)
    insert(store, 'cccc0001', m)
    assert.equal(store.get('cccc0001')?.manifest.files.length, m.files.length)
    const before = store.cachedManifestBytes
    store.remove('cccc0001')
    assert.ok(store.cachedManifestBytes < before)
    assert.equal(store.get('cccc0001'), undefined)
    insert(store, 'cccc0001', m)
    assert.deepEqual(store.get('cccc0001')?.manifest, m)
  })
})
