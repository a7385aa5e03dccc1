import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { removeTempDirs, tempDir } from '../helpers/files.js'
import { missingToolsMessage } from '../../bench/requirements.js'

after(removeTempDirs)

test('the bench names every missing program of the suites asked for, and the Debian packages that bring them', () => {
  const empty = tempDir()
  const message = missingToolsMessage(['throughput', 'files', 'keyserver'], { dirs: [empty], postgresRoot: join(empty, 'postgresql') })
  assert.equal(message, 'sshd, ssh, iperf3, socat, scp, postgres not installed; on Debian: apt-get install openssh-server openssh-client iperf3 socat postgresql (or run fewer suites with --only)')
  // the DHT simulation needs nothing outside Node
  assert.equal(missingToolsMessage(['dht'], { dirs: [empty], postgresRoot: join(empty, 'postgresql') }), undefined)
})

test('the bench finds the programs it needs in any of the directories searched', () => {
  const a = tempDir()
  const b = tempDir()
  for (const name of ['sshd', 'iperf3']) writeFileSync(join(a, name), '')
  for (const name of ['ssh', 'socat', 'scp']) writeFileSync(join(b, name), '')
  mkdirSync(join(b, 'postgresql'))
  assert.equal(missingToolsMessage(['throughput', 'files', 'latency', 'keyserver'], { dirs: [a, b], postgresRoot: join(b, 'postgresql') }), undefined)
  assert.equal(missingToolsMessage(['throughput'], { dirs: [a], postgresRoot: join(b, 'postgresql') }), 'ssh, socat not installed; on Debian: apt-get install openssh-client socat (or run fewer suites with --only)')
})
