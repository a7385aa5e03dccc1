import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { ChunkIo } from '../../../src/apps/files/chunk-io.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'
import { waitFor } from '../../helpers/wait.js'

after(removeTempDirs)

const sha = (b: Buffer): Buffer => createHash('sha256').update(b).digest()

/** The chunk worker on real files: what it reads, hashes and writes, and what it refuses. */
describe('files: chunk worker', () => {
  const dir = tempDir('cspace-chunk-io-')
  const io = new ChunkIo(100)
  after(async () => { await waitFor('the worker to stop', async () => !io.running, 10_000, 20) })

  test('reads and hashes into shared or ordinary memory; a short file reads short', async () => {
    const bytes = randomBytes(300_000)
    const path = join(dir, 'src.bin')
    writeFileSync(path, bytes)
    const fd = openSync(path, 'r')
    try {
      const shared = io.sharedBuffer(100_000)
      const r1 = await io.readAndHash(fd, 50_000, shared)
      assert.equal(r1.bytesRead, 100_000)
      assert.ok(shared.equals(bytes.subarray(50_000, 150_000)))
      assert.ok(r1.hash.equals(sha(bytes.subarray(50_000, 150_000))))
      const plain = Buffer.alloc(100_000)
      const r2 = await io.readAndHash(fd, 250_000, plain)
      assert.equal(r2.bytesRead, 50_000, 'only what the file has')
      assert.ok(plain.subarray(0, 50_000).equals(bytes.subarray(250_000)))
      assert.ok(r2.hash.equals(sha(bytes.subarray(250_000))))
    } finally { closeSync(fd) }
  })

  test('writes a chunk only if it matches its hash; a given buffer comes back to the pool', async () => {
    const path = join(dir, 'dst.bin')
    const fd = openSync(path, 'w+')
    try {
      const a = randomBytes(64 * 1024)
      assert.equal(await io.verifyAndWrite(fd, 0, a, sha(a)), true)
      assert.ok(a.length === 64 * 1024, 'an ordinary buffer is copied, not taken')
      const b = io.buffer(40 + 1000, 40 + 4096)
      randomBytes(1040).copy(b)
      const bBytes = Buffer.from(b.subarray(40))
      assert.equal(await io.verifyAndWrite(fd, 64 * 1024, b.subarray(40), sha(bBytes), true), true)
      assert.equal(b.length, 0, 'a given buffer is gone from the caller')
      await assert.rejects(io.verifyAndWrite(fd, 0, b, sha(bBytes), true), { name: 'DataCloneError' }, 'memory given twice is refused, not sent')
      const again = io.buffer(10, 40 + 4096)
      assert.equal(again.buffer.byteLength, 40 + 4096, 'pooled by its capacity')
      assert.ok(Buffer.from(again.buffer, 40, 1000).equals(bBytes), 'the same memory came back (a new one would be zeros)')
      const bad = Buffer.alloc(1000, 7)
      assert.equal(await io.verifyAndWrite(fd, 200 * 1024, bad, sha(Buffer.alloc(1000, 8))), false)
      const file = readFileSync(path)
      assert.equal(file.length, 64 * 1024 + 1000, 'the refused chunk wrote nothing')
      assert.ok(file.subarray(0, 64 * 1024).equals(a))
      assert.ok(file.subarray(64 * 1024).equals(bBytes))
    } finally { closeSync(fd) }
  })

  test('a system error comes back with its code, and the worker keeps serving', async () => {
    const fd = openSync(join(dir, 'ro.bin'), 'w')
    closeSync(fd)
    const readOnly = openSync(join(dir, 'ro.bin'), 'r')
    try {
      const x = Buffer.alloc(16)
      await assert.rejects(io.verifyAndWrite(readOnly, 0, x, sha(x)), { code: 'EBADF' })
      const r = await io.readAndHash(readOnly, 0, Buffer.alloc(8))
      assert.equal(r.bytesRead, 0)
    } finally { closeSync(readOnly) }
  })

  test('aligned chunks go through the O_DIRECT descriptor, the unaligned tail through the ordinary one', async (ctx) => {
    const O_DIRECT = (constants as Record<string, number>).O_DIRECT
    if (O_DIRECT == null) { ctx.skip('no O_DIRECT on this platform'); return }
    const path = join(dir, 'direct.bin')
    const fd = openSync(path, 'w+')
    let direct: number
    try {
      direct = openSync(path, constants.O_WRONLY | O_DIRECT)
    } catch (err) {
      closeSync(fd)
      ctx.skip(`the test directory's file system has no O_DIRECT (${(err as Error).message})`)
      return
    }
    const roPath = join(dir, 'direct-ro.bin')
    writeFileSync(roPath, '')
    const readOnly = openSync(roPath, 'r')
    try {
      const head = randomBytes(256 * 1024)
      const tail = randomBytes(5000)
      const given = io.buffer(40 + head.length)
      head.copy(given, 40)
      assert.equal(await io.verifyAndWrite(fd, 0, given.subarray(40), sha(head), true, direct), true)
      assert.equal(await io.verifyAndWrite(fd, head.length, tail, sha(tail), false, direct), true)
      assert.ok(readFileSync(path).equals(Buffer.concat([head, tail])), 'both halves on disk, in place')
      // which descriptor each write used: one that cannot write shows it
      const x = randomBytes(4096)
      await assert.rejects(io.verifyAndWrite(fd, 8192, x, sha(x), false, readOnly), { code: 'EBADF' }, 'an aligned chunk is written through directFd')
      const y = randomBytes(1000)
      assert.equal(await io.verifyAndWrite(fd, 8192, y, sha(y), false, readOnly), true, 'an unaligned one is not')
      const z = randomBytes(4096)
      assert.equal(await io.verifyAndWrite(fd, 100, z, sha(z), false, readOnly), true, 'nor one at an unaligned offset')
    } finally { closeSync(fd); closeSync(direct); closeSync(readOnly) }
  })

  test('an idle worker stops, and the next request starts another', async () => {
    await waitFor('the worker to stop', async () => !io.running, 10_000, 20)
    const x = Buffer.from('hello')
    const path = join(dir, 'late.bin')
    const fd = openSync(path, 'w')
    try {
      assert.equal(await io.verifyAndWrite(fd, 0, x, sha(x)), true)
      assert.equal(io.running, true)
    } finally { closeSync(fd) }
    assert.equal(readFileSync(path, 'utf8'), 'hello')
  })
})
