import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FilesStore, type TransferRow } from '../../../src/apps/files/store.js'
import { tidyAfterStop } from '../../../src/apps/files/leftovers.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(removeTempDirs)

/**
 * What a daemon stopped part way leaves, as its store and its files hold
 * it, tidied at the next start: a real store, the files a delivery makes.
 */
describe('leftovers: what a stopped daemon left, finished at its next start', () => {
  const store = FilesStore.open(tempDir('cspace-leftovers-'))
  const downloads = tempDir('cspace-leftovers-dl-')
  after(() => store.close())

  /** A transfer of two files recorded in `state`, its partial directory under downloads holding them in `tree/`. */
  function transfer (id: string, state: TransferRow['state']): string {
    const partialDir = join(downloads, '.cspace-partial', id)
    mkdirSync(join(partialDir, 'tree'), { recursive: true })
    for (const name of [`${id}-1.txt`, `${id}-2.txt`]) writeFileSync(join(partialDir, 'tree', name), name)
    const files = [`${id}-1.txt`, `${id}-2.txt`].map(path => ({ path, size: path.length, mtime: 0 }))
    store.insert({ id, senderUserId: 'u1-alice', senderName: 'alice', manifest: { v: 1, chunkSize: 65536, files }, totalBytes: 20, fileCount: 2, state, partialDir })
    return partialDir
  }

  test('stopped while moving a finished transfer into place: the move is finished and recorded once', async () => {
    const dir = transfer('aaaa1111', 'accepted')
    // the first file had moved; the second had not begun
    writeFileSync(join(dir, 'moves.log'), JSON.stringify({ top: 'aaaa1111-1.txt', candidate: 'aaaa1111-1.txt' }) + '\n')
    renameSync(join(dir, 'tree', 'aaaa1111-1.txt'), join(downloads, 'aaaa1111-1.txt'))
    await tidyAfterStop(store)
    const row = store.get('aaaa1111')
    assert.equal(row?.state, 'complete')
    assert.deepEqual(row?.saved, ['aaaa1111-1.txt', 'aaaa1111-2.txt'])
    assert.equal(row?.savedIn, downloads)
    assert.equal(row?.partialDir, null)
    assert.equal(existsSync(dir), false)
    assert.equal(readFileSync(join(downloads, 'aaaa1111-2.txt'), 'utf8'), 'aaaa1111-2.txt')
    assert.equal(existsSync(join(downloads, 'aaaa1111-1 (1).txt')), false)
  })

  test('a transfer still arriving (no move begun) is left to resume', async () => {
    const dir = transfer('bbbb2222', 'accepted')
    await tidyAfterStop(store)
    assert.equal(store.get('bbbb2222')?.state, 'accepted')
    assert.equal(store.get('bbbb2222')?.partialDir, dir)
    assert.equal(existsSync(join(dir, 'tree', 'bbbb2222-1.txt')), true)
  })

  test('recorded complete with its partial directory still there: the directory goes', async () => {
    const dir = transfer('cccc3333', 'complete')
    await tidyAfterStop(store)
    assert.equal(existsSync(dir), false)
    assert.equal(store.get('cccc3333')?.partialDir, null)
    assert.equal(store.get('cccc3333')?.state, 'complete')
  })
})
