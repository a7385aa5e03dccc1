import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { homedir } from 'node:os'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
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

  test('ensureHome creates the directory 0700, and leaves an existing one alone', () => {
    const base = tempDir()
    const home = join(base, 'a', 'profile')
    ensureHome(home)
    assert.equal(statSync(home).mode & 0o777, 0o700)
    writeFileSync(join(home, 'keep'), 'x')
    ensureHome(home)
    assert.equal(readFileSync(join(home, 'keep'), 'utf8'), 'x')
  })
})
