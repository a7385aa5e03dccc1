import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { appendFileSync, rmSync } from 'node:fs'
import { KeptPartials, MAX_KEPT_BYTES } from '../../../src/apps/files/kept-partials.js'
import { MAX_CHUNKS, MIN_CHUNK } from '../../../src/apps/files/wire.js'
import type { Manifest } from '../../../src/apps/files/manifest.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(removeTempDirs)

/** A transfer claiming the most chunks an offer may have: 33 bytes of state each. */
const largest: Manifest = { v: 1, chunkSize: MIN_CHUNK, files: [{ path: 'big', size: MAX_CHUNKS * MIN_CHUNK, mtime: 0 }] }

test('a transfer is kept between connections while it is the latest; the longest idle goes past the memory budget; a finished or forgotten one goes', async () => {
  const root = tempDir('cspace-kept-')
  const kept = new KeptPartials()
  const a = await kept.open('a', join(root, 'a'), largest)
  assert.ok(a.heldBytes > MAX_KEPT_BYTES / 2 && a.heldBytes < MAX_KEPT_BYTES, `${a.heldBytes}`)
  await a.close()
  kept.release('a', a, false)
  assert.equal(await kept.open('a', join(root, 'a'), largest), a, 'the same state for the next connection')
  // a second connection while the first still holds it: read from disk, and the first is not kept after it
  const a2 = await kept.open('a', join(root, 'a'), largest)
  assert.notEqual(a2, a)
  await a.close()
  kept.release('a', a, false)
  assert.equal(kept.size, 0)
  await a2.close()
  kept.release('a', a2, false)

  // two of the largest pass the budget: the one idle longest is let go
  const b = await kept.open('b', join(root, 'b'), largest)
  await b.close()
  kept.release('b', b, false)
  assert.equal(kept.size, 1)
  assert.notEqual(await kept.open('a', join(root, 'a'), largest), a2, 'a was let go')

  const c = await kept.open('c', join(root, 'c'), { ...largest, files: [{ path: 'small', size: 10, mtime: 0 }] })
  await c.close()
  kept.release('c', c, true)
  assert.notEqual(await kept.open('c', join(root, 'c'), largest), c, 'finished: not kept')
  const d = await kept.open('d', join(root, 'd'), largest)
  await d.close()
  kept.release('d', d, false)
  kept.forget('d')
  assert.notEqual(await kept.open('d', join(root, 'd'), largest), d, 'forgotten')
  // its directory removed meanwhile: read again
  const e = await kept.open('e', join(root, 'e'), { ...largest, files: [{ path: 'small', size: 10, mtime: 0 }] })
  await e.close()
  kept.release('e', e, false)
  rmSync(join(root, 'e'), { recursive: true })
  assert.notEqual(await kept.open('e', join(root, 'e'), { ...largest, files: [{ path: 'small', size: 10, mtime: 0 }] }), e)
  // its log not what it wrote (a record cut short by a full disk): read again
  const small: Manifest = { ...largest, files: [{ path: 'small', size: 10, mtime: 0 }] }
  const f = await kept.open('f', join(root, 'f'), small)
  await f.close()
  kept.release('f', f, false)
  appendFileSync(join(root, 'f', 'chunks.log'), Buffer.alloc(7))
  assert.notEqual(await kept.open('f', join(root, 'f'), small), f)
  const g = await kept.open('g', join(root, 'g'), small)
  await g.close()
  kept.release('g', g, false)
  assert.equal(await kept.open('g', join(root, 'g'), small), g, 'untouched: kept (so the cases above are what fails)')
})
