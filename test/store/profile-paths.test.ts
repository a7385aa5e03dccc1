import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { homedir } from 'node:os'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { runCli } from '../helpers/cli.js'
import { ensureHome, profilePaths, resolveHome } from '../../src/store/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'

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

  test('ensureHome creates the directory 0700, keeps what is in one that exists, and makes it 0700 if others could look in', () => {
    const base = tempDir()
    const home = join(base, 'a', 'profile')
    assert.equal(ensureHome(home), false, 'made, not changed')
    assert.equal(statSync(home).mode & 0o777, 0o700)
    writeFileSync(join(home, 'keep'), 'x')
    assert.equal(ensureHome(home), false, 'already private')
    assert.equal(readFileSync(join(home, 'keep'), 'utf8'), 'x')
    chmodSync(home, 0o755) // as `mkdir ~/.cspace` leaves it
    assert.equal(ensureHome(home), true)
    assert.equal(statSync(home).mode & 0o777, 0o700)
    assert.equal(readFileSync(join(home, 'keep'), 'utf8'), 'x')
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
