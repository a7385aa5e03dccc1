import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PartialTransfer, fileDigest } from '../../../src/apps/files/partial.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(removeTempDirs)

describe('PartialTransfer: the finished files moved into place', () => {
  /** A transfer of one file of two 64 KiB chunks, all of it held and checked. */
  async function whole (): Promise<{ partial: PartialTransfer, data: Buffer }> {
    const data = randomBytes(2 * 65536)
    const partial = await PartialTransfer.open(join(tempDir('cspace-partial-'), '.cspace-partial', 'x'), { v: 1, chunkSize: 65536, files: [{ path: 'kept.bin', size: data.length, mtime: 0 }] })
    const hashes = [0, 1].map(c => createHash('sha256').update(data.subarray(c * 65536, (c + 1) * 65536)).digest())
    for (const c of [0, 1]) assert.equal(await partial.writeChunk(0, c, data.subarray(c * 65536, (c + 1) * 65536), hashes[c]), true)
    assert.equal(await partial.finishFile(0, fileDigest(Buffer.concat(hashes))), 'ok')
    return { partial, data }
  }

  test('delivered when still wanted', async () => {
    const { partial, data } = await whole()
    const downloads = tempDir('cspace-partial-dl-')
    assert.deepEqual(await partial.finalize(downloads, () => true), ['kept.bin'])
    assert.deepEqual(readFileSync(join(downloads, 'kept.bin')), data)
  })

  test('declined while its files were being readied: nothing is moved', async () => {
    const { partial } = await whole()
    const downloads = tempDir('cspace-partial-dl-')
    assert.equal(await partial.finalize(downloads, () => false), null)
    assert.deepEqual(readdirSync(downloads), [])
    assert.equal(existsSync(join(partial.dir, 'moves.log')), false, 'no delivery begun, for the next start to finish')
  })
})
