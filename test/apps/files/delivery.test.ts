import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deliverTree, finishDelivery } from '../../../src/apps/files/delivery.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(removeTempDirs)

/**
 * A partial directory whose tree is whole (a.txt, d/inner.txt, b.txt) and a
 * downloads directory that already has a `b.txt` of the user's own.
 */
function setUp (): { dir: string, downloads: string, tree: string } {
  const dir = tempDir('cspace-delivery-')
  const downloads = tempDir('cspace-delivery-dl-')
  const tree = join(dir, 'tree')
  mkdirSync(join(tree, 'd'), { recursive: true })
  writeFileSync(join(tree, 'a.txt'), 'a')
  writeFileSync(join(tree, 'd', 'inner.txt'), 'inner')
  writeFileSync(join(tree, 'b.txt'), 'b')
  writeFileSync(join(downloads, 'b.txt'), 'the user\'s own')
  return { dir, downloads, tree }
}

const TOPS: Array<[string, boolean]> = [['a.txt', false], ['d', true], ['b.txt', false]]
const line = (top: string, candidate: string): string => JSON.stringify({ top, candidate }) + '\n'

/** Everything delivered once, nothing replaced, nothing left in the tree. */
function assertDelivered (downloads: string, tree: string, saved: string[] | null): void {
  assert.deepEqual([...saved ?? []].sort(), ['a.txt', 'b (1).txt', 'd'])
  assert.deepEqual(readdirSync(downloads).sort(), ['a.txt', 'b (1).txt', 'b.txt', 'd'], 'no name delivered twice')
  assert.equal(readFileSync(join(downloads, 'b.txt'), 'utf8'), 'the user\'s own')
  assert.equal(readFileSync(join(downloads, 'b (1).txt'), 'utf8'), 'b')
  assert.equal(readFileSync(join(downloads, 'd', 'inner.txt'), 'utf8'), 'inner')
  assert.deepEqual(readdirSync(tree), [])
}

describe('delivery: a finished transfer moved into the downloads directory', () => {
  test('moves each top-level name, never over the user\'s; finishing it again changes nothing', () => {
    const { dir, downloads, tree } = setUp()
    const saved = deliverTree(dir, downloads, TOPS)
    assert.deepEqual(saved, ['a.txt', 'd', 'b (1).txt'])
    assertDelivered(downloads, tree, saved)
    assertDelivered(downloads, tree, finishDelivery(dir, downloads))
  })

  test('nothing begun: nothing to finish', () => {
    const { dir, downloads } = setUp()
    assert.equal(finishDelivery(dir, downloads), null)
    assert.deepEqual(readdirSync(downloads), ['b.txt'])
  })

  test('stopped after a directory reserved its name, before it moved: moved there, not to `d (1)`', () => {
    const { dir, downloads, tree } = setUp()
    renameSync(join(tree, 'a.txt'), join(downloads, 'a.txt'))
    writeFileSync(join(dir, 'moves.log'), line('a.txt', 'a.txt') + line('d', 'd'))
    mkdirSync(join(downloads, 'd'))
    assertDelivered(downloads, tree, finishDelivery(dir, downloads))
  })

  test('stopped after a file was linked to its name, before the old name went: not delivered twice', () => {
    const { dir, downloads, tree } = setUp()
    writeFileSync(join(dir, 'moves.log'), line('a.txt', 'a.txt'))
    linkSync(join(tree, 'a.txt'), join(downloads, 'a.txt'))
    assertDelivered(downloads, tree, finishDelivery(dir, downloads))
  })

  test('stopped after every move, before it was recorded: the names are read back from the journal', () => {
    const { dir, downloads, tree } = setUp()
    deliverTree(dir, downloads, TOPS)
    assert.equal(existsSync(join(dir, 'moves.log')), true)
    assertDelivered(downloads, tree, finishDelivery(dir, downloads))
  })

  test('a journal line cut short, and a name taken by another file meanwhile: neither is taken for ours', () => {
    const { dir, downloads, tree } = setUp()
    writeFileSync(join(downloads, 'a.txt'), 'another program\'s')
    // a.txt's try named a.txt, which another program then took; d's line was cut off mid-write
    writeFileSync(join(dir, 'moves.log'), line('a.txt', 'a.txt'))
    appendFileSync(join(dir, 'moves.log'), '{"top":"d","cand')
    const saved = finishDelivery(dir, downloads)
    assert.deepEqual([...saved ?? []].sort(), ['a (1).txt', 'b (1).txt', 'd'])
    assert.equal(readFileSync(join(downloads, 'a.txt'), 'utf8'), 'another program\'s')
    assert.equal(readFileSync(join(downloads, 'a (1).txt'), 'utf8'), 'a')
    assert.equal(readFileSync(join(downloads, 'd', 'inner.txt'), 'utf8'), 'inner')
    assert.deepEqual(readdirSync(tree), [])
    // the records written after the cut one are read back: each is on a line of its own
    assert.deepEqual(finishDelivery(dir, downloads)?.sort(), saved?.sort())
  })

  test('a partial directory being removed (its tree gone first): nothing is taken as delivered', () => {
    const { dir, downloads, tree } = setUp()
    writeFileSync(join(dir, 'moves.log'), line('a.txt', 'a.txt'))
    rmSync(tree, { recursive: true })
    assert.equal(finishDelivery(dir, downloads), null)
  })
})
