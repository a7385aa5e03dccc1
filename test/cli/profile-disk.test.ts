import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupAll, makeProfile, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'

const mounts: string[] = []
/** These tests mount file systems of their own. */
const needsRoot = { skip: process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : false }
after(async () => {
  for (const m of mounts) spawnSync('umount', ['-l', m])
  await cleanupAll()
})

/** A profile on a small tmpfs of its own, so its disk can be filled or made read-only. */
function smallDisk (): string {
  const mnt = tempDir('cspace-small-disk-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt])
  mounts.push(mnt)
  return mnt
}

/** Fills the disk: writes until it refuses, in shrinking pieces. */
function fill (dir: string): void {
  for (let size = 1 << 20, i = 0; size >= 512; size >>= 1) {
    for (;;) {
      try { writeFileSync(join(dir, `filler-${i++}`), Buffer.alloc(size, 1)) } catch { break }
    }
  }
}

test('a full disk is reported as one, not as a corrupt profile, and nothing stored is lost', needsRoot, async () => {
  const mnt = smallDisk()
  const home = join(mnt, 'profile')
  assert.equal((await runCli(home, ['init'])).code, 0)
  const other = await makeProfile('other')
  assert.equal((await runCli(home, ['contacts', 'add', 'first', other.userId])).code, 0)
  fill(mnt)
  const friend = await makeProfile('friend')
  const r = await runCli(home, ['contacts', 'add', 'second', friend.userId])
  assert.equal(r.code, 1, r.stderr)
  assert.doesNotMatch(r.stderr, /corrupt|move it away|unexpected/)
  assert.match(r.stderr, /^cspace: [^\n]*(is the disk full\? Free some space|no space left on the disk; free some space) and try again\n$/)
  const d = await runCli(home, ['daemon'])
  assert.equal(d.code, 1, d.stderr)
  assert.doesNotMatch(d.stderr, /corrupt|move it away|unexpected/)
  assert.match(d.stderr, /(is the disk full\?|no space left on the disk)/)
  execFileSync('sh', ['-c', `rm -f ${mnt}/filler-*`])
  const list = await runCli(home, ['contacts', 'list', '--json'])
  assert.equal(list.code, 0, list.stderr)
  assert.deepEqual((JSON.parse(list.stdout) as Array<{ name: string }>).map(c => c.name), ['first'])
})

test('init on a disk too full for it leaves no identity behind, so it can be run again', needsRoot, async () => {
  const mnt = smallDisk()
  // room for a key file, not for a database: set aside before the disk is filled, freed after
  writeFileSync(join(mnt, 'reserve'), Buffer.alloc(8192, 1))
  fill(mnt)
  rmSync(join(mnt, 'reserve'))
  const home = join(mnt, 'profile')
  const first = await runCli(home, ['init'])
  assert.equal(first.code, 1, first.stderr)
  assert.equal(existsSync(join(home, 'identity.key')), false, 'no identity that a second init would refuse')
  execFileSync('sh', ['-c', `rm -f ${mnt}/filler-*`])
  const again = await runCli(home, ['init'])
  assert.equal(again.code, 0, again.stderr)
})

test('a read-only profile directory is named as such, with what to do', needsRoot, async () => {
  const mnt = smallDisk()
  const home = join(mnt, 'profile')
  assert.equal((await runCli(home, ['init'])).code, 0)
  execFileSync('mount', ['-o', 'remount,ro', mnt])
  const d = await runCli(home, ['daemon'])
  assert.equal(d.code, 1, d.stderr)
  assert.match(d.stderr, /^cspace: [^\n]*read-only[^\n]*CSPACE_HOME[^\n]*\n$/)
  assert.doesNotMatch(d.stderr, /unexpected/)
  const init = await runCli(join(mnt, 'new'), ['init'])
  assert.equal(init.code, 1, init.stderr)
  assert.match(init.stderr, /^cspace: (the file system is read-only \([^)]*\); set CSPACE_HOME to a directory you can write to|cannot create the directory \([^)]*\); check that you may write where CSPACE_HOME points)\n$/)
})

test('CSPACE_HOME under a regular file is named, not an unexpected error', async () => {
  const dir = tempDir('cspace-notdir-')
  writeFileSync(join(dir, 'file'), 'x')
  const r = await runCli(join(dir, 'file', 'profile'), ['init'])
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /^cspace: a part of the path is not a directory \([^)]*\); check CSPACE_HOME\n$/)
})

test('an older Node.js is named with the version cspace needs', { skip: !existsSync('/usr/bin/node') || Number(execFileSync('/usr/bin/node', ['-p', 'process.versions.node.split(".")[0]']).toString()) >= 22 ? 'no Node.js older than 22 at /usr/bin/node' : false }, () => {
  mkdirSync(tempDir('cspace-oldnode-'), { recursive: true })
  const r = spawnSync('/usr/bin/node', [join(import.meta.dirname, '../../../bin/cspace.js'), 'id'], { encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^cspace: cannot start \([^)]*\); cspace needs Node\.js 22\.13 or newer, and this is v\d+\.\d+\.\d+\n$/)
})
