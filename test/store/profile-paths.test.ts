import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { homedir } from 'node:os'
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { runCli } from '../helpers/cli.js'
import { ensureHome, profilePaths, resolveHome } from '../../src/store/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'
import { CspaceError } from '../../src/errors.js'

describe('profile paths', () => {
  after(removeTempDirs)

  test('$CSPACE_HOME wins, made absolute; otherwise ~/.cspace', () => {
    assert.equal(resolveHome({ CSPACE_HOME: '/srv/alice' }), '/srv/alice')
    assert.equal(resolveHome({ CSPACE_HOME: 'rel/dir' }), join(process.cwd(), 'rel/dir'))
    assert.equal(resolveHome({ CSPACE_HOME: '' }), join(homedir(), '.cspace'))
    assert.equal(resolveHome({}), join(homedir(), '.cspace'))
  })

  test('each file has its place in the profile directory', () => {
    assert.deepEqual(profilePaths('/p'), {
      home: '/p',
      keyFile: '/p/identity.key',
      database: '/p/cspace.db',
      config: '/p/config.json',
      daemonInfo: '/p/daemon.json',
      apiToken: '/p/api-token',
      lock: '/p/daemon.lock'
    })
  })

  test('ensureHome creates the directory 0700, keeps what is in one that exists, and makes a profile 0700 if others could look in', () => {
    const base = tempDir()
    const home = join(base, 'a', 'profile')
    assert.equal(ensureHome(home), false, 'made, not changed')
    assert.equal(statSync(home).mode & 0o777, 0o700)
    writeFileSync(join(home, 'config.json'), '{}')
    assert.equal(ensureHome(home), false, 'already private')
    assert.equal(readFileSync(join(home, 'config.json'), 'utf8'), '{}')
    chmodSync(home, 0o755) // as `mkdir ~/.cspace` leaves it
    assert.equal(ensureHome(home), true)
    assert.equal(statSync(home).mode & 0o777, 0o700)
    assert.equal(readFileSync(join(home, 'config.json'), 'utf8'), '{}')
    // whatever cspace itself leaves (apps/ before an identity, a key server's database), and what file systems add
    for (const names of [['apps'], ['keyserver.db', 'keyserver.db-wal'], ['daemon.json', 'daemon.lock', 'api-token', '.DS_Store', 'lost+found', '.config.json.0123456789ab.tmp']]) {
      const other = join(base, names.join('-'))
      mkdirSync(other, { mode: 0o755 })
      chmodSync(other, 0o755)
      for (const n of names) writeFileSync(join(other, n), '')
      assert.equal(ensureHome(other), true, names.join(' '))
      assert.equal(statSync(other).mode & 0o777, 0o700)
    }
  })

  test('a shared directory that is not a profile (a home, /tmp) is refused, not locked; so is a file', async () => {
    const shared = join(tempDir(), 'shared')
    mkdirSync(shared)
    chmodSync(shared, 0o1777)
    writeFileSync(join(shared, 'someone-elses'), 'x')
    assert.throws(() => ensureHome(shared), (err: CspaceError) => err.code === 'PROFILE_DIRECTORY_SHARED' && err.exitCode === 2)
    const r = await runCli(shared, ['contacts', 'list'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, `cspace: the profile directory ${shared} is open to other users and holds files that are not cspace's; set CSPACE_HOME to a directory of cspace's own\n`)
    assert.equal(statSync(shared).mode & 0o7777, 0o1777, 'left as it was')
    assert.deepEqual(readdirSync(shared), ['someone-elses'])

    // a home holding only dotfiles, and a sticky directory holding nothing yet (an empty /tmp, /dev/shm)
    const home = join(tempDir(), 'home')
    mkdirSync(home)
    chmodSync(home, 0o755)
    writeFileSync(join(home, '.bashrc'), '')
    assert.throws(() => ensureHome(home), { code: 'PROFILE_DIRECTORY_SHARED' })
    assert.equal(statSync(home).mode & 0o777, 0o755)
    const sticky = join(tempDir(), 'sticky')
    mkdirSync(sticky)
    chmodSync(sticky, 0o1777)
    assert.throws(() => ensureHome(sticky), { code: 'PROFILE_DIRECTORY_SHARED' })
    assert.equal(statSync(sticky).mode & 0o7777, 0o1777)

    const file = join(tempDir(), 'not-a-dir')
    writeFileSync(file, 'x', { mode: 0o644 })
    const init = await runCli(file, ['init'])
    assert.equal(init.code, 2)
    assert.equal(init.stderr, `cspace: the profile directory ${file} is not a directory; move it away, or set CSPACE_HOME to a directory for the profile\n`)
    assert.equal(statSync(file).mode & 0o777, 0o644)
    assert.equal(readFileSync(file, 'utf8'), 'x')
  })

  test('`cspace init` in a directory others can read says it made it private', async () => {
    const home = join(tempDir(), 'profile')
    mkdirSync(home, { mode: 0o755 })
    chmodSync(home, 0o755)
    const r = await runCli(home, ['init'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^cspace: the profile directory .* was open to other users; it is now for you only \(0700\)\n/)
    assert.equal(statSync(home).mode & 0o777, 0o700)
  })
})
