import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readDaemonInfo } from '../../src/daemon/daemon-info.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'

test('daemon.json: malformed, truncated, oversized or stale means "no daemon", never a crash', (t) => {
  t.after(removeTempDirs)
  const path = join(tempDir('cspace-daemon-info-'), 'daemon.json')
  const good = { v: 1, pid: process.pid, apiPort: 1234, appPort: 1235, peerId: 'x', startedAt: 0 }
  writeFileSync(path, JSON.stringify(good))
  assert.deepEqual(readDaemonInfo(path), good, 'the well-formed file of a live process is read')
  for (const text of ['', 'not json', JSON.stringify(good).slice(0, 30), 'null', '[1]',
    JSON.stringify({ ...good, v: 2 }), JSON.stringify({ ...good, apiPort: '1234' }),
    JSON.stringify({ ...good, pad: 'x'.repeat(100 * 1024) }),
    JSON.stringify({ ...good, pid: 2 ** 22 + 12345 })]) { // no such process: a daemon that died
    writeFileSync(path, text)
    assert.equal(readDaemonInfo(path), undefined, text.slice(0, 60))
  }
})
