import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { buildManifest } from '../../../src/apps/files/manifest.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(() => { removeTempDirs() })

test('files whose names other systems forbid are sent under the names the receiver saves them as', () => {
  const dir = tempDir()
  const shots = join(dir, 'shots: today')
  mkdirSync(shots)
  writeFileSync(join(shots, 'Screenshot 12:30:00.png'), 'png')
  writeFileSync(join(shots, 'what?.txt'), 'txt')
  const { manifest, sources } = buildManifest([shots])
  assert.deepEqual(sources.map(s => s.path).sort(), ['shots_ today/Screenshot 12_30_00.png', 'shots_ today/what_.txt'])
  assert.deepEqual(manifest.files.map(f => f.path).sort(), ['shots_ today/Screenshot 12_30_00.png', 'shots_ today/what_.txt'])
  assert.deepEqual(sources.map(s => s.source).sort(), [join(shots, 'Screenshot 12:30:00.png'), join(shots, 'what?.txt')], 'read from their real names')
})

test('two files that would be saved under one name are refused, naming it', () => {
  const dir = tempDir()
  const both = join(dir, 'both')
  mkdirSync(both)
  writeFileSync(join(both, 'a:b'), '1')
  writeFileSync(join(both, 'a?b'), '2')
  assert.throws(() => buildManifest([both]), /two files would both be saved as both\/a_b; rename one/)
})

test('a path that cannot be read is named with the reason in words, not Node\'s error code', () => {
  const dir = tempDir()
  const missing = join(dir, 'nonexist.txt')
  assert.throws(() => buildManifest([missing]), { code: 'SOURCE_UNREADABLE', message: `cannot send ${missing}: there is no such file or directory` })
  writeFileSync(join(dir, 'file'), 'x')
  assert.throws(() => buildManifest([join(dir, 'file', 'below')]), { message: `cannot send ${join(dir, 'file', 'below')}: a part of its path is not a directory` })
})

test('names differing only in case are refused before anything is sent, naming both; a name of dots alone is sent, as underscores', () => {
  const dir = tempDir()
  const cased = join(dir, 'cased')
  mkdirSync(cased)
  writeFileSync(join(cased, 'Case.txt'), 'a')
  writeFileSync(join(cased, 'case.txt'), 'b')
  assert.throws(() => buildManifest([cased]), { code: 'SOURCE_UNREADABLE', message: /cased\/Case\.txt and cased\/case\.txt differ only in case, and would be one file on many systems; rename one/ })

  const dots = join(dir, 'dots')
  mkdirSync(dots)
  writeFileSync(join(dots, '...'), 'dots')
  writeFileSync(join(dots, 'a.txt'), 'a')
  assert.deepEqual(buildManifest([dots]).manifest.files.map(f => f.path).sort(), ['dots/___', 'dots/a.txt'])
})

test('a symbolic link named as an argument is followed, under its own name; a FIFO is refused as not a file', () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'real.txt'), 'real')
  symlinkSync(join(dir, 'real.txt'), join(dir, 'link.txt'))
  const { manifest, sources } = buildManifest([join(dir, 'link.txt')])
  assert.deepEqual(manifest.files.map(f => [f.path, f.size]), [['link.txt', 4]])
  assert.equal(sources[0].source, join(dir, 'real.txt'))

  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  assert.throws(() => buildManifest([fifo]), { code: 'SOURCE_UNREADABLE', message: `cannot send ${fifo}: it is not a file or a directory` })
})

test('a file and a directory whose names differ only in case are refused by the sender, not sent for the receiver to refuse', () => {
  const dir = tempDir()
  const tree = join(dir, 'tree')
  mkdirSync(join(tree, 'docs'), { recursive: true })
  writeFileSync(join(tree, 'docs', 'a.txt'), 'a')
  writeFileSync(join(tree, 'Docs'), 'file')
  assert.throws(() => buildManifest([tree]), { code: 'SOURCE_UNREADABLE', message: /tree\/docs would be both a file and a directory \(names differing only in case are one on many systems\); rename one/ })
})
