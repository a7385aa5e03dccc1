import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { statSync, writeFileSync } from 'node:fs'
import { ConfigInvalid, defaultConfig, loadConfig, saveConfig } from '../../src/store/index.js'
import { cleanupAll, tempDir } from '../helpers/cli.js'

describe('config.json', () => {
  after(async () => { await cleanupAll() })
  const path = join(tempDir(), 'config.json')

  test('missing file: defaults; partial file: the rest are defaults; saved 0600', () => {
    assert.deepEqual(loadConfig(path), defaultConfig())
    writeFileSync(path, JSON.stringify({ network: { allowPrivateAddresses: true } }))
    const c = loadConfig(path)
    assert.equal(c.network.allowPrivateAddresses, true)
    assert.equal(c.network.inboundConnectionsPerIpPerSecond, 5)
    assert.deepEqual(c.listen, ['/ip4/0.0.0.0/tcp/0'])
    saveConfig(path, c)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual(loadConfig(path), c)
  })

  test('bad files are refused with the field named', () => {
    const cases: Array<[string, RegExp]> = [
      ['{', /not JSON/],
      ['[]', /must be an object/],
      ['{"lisen": []}', /unknown setting "lisen"/],
      ['{"network": {"allowPrivate": true}}', /unknown setting "network.allowPrivate"/],
      ['{"listen": "/ip4/1.2.3.4/tcp/1"}', /"listen" must be a list of strings/],
      ['{"apiPort": 70000}', /"apiPort" must be an integer from 0 to 65535/],
      ['{"presence": {"ttlSeconds": 5}}', /"presence.ttlSeconds" must be an integer from 30/],
      ['{"network": {"allowPrivateAddresses": "yes"}}', /must be true or false/]
    ]
    for (const [text, why] of cases) {
      writeFileSync(path, text)
      assert.throws(() => loadConfig(path), (err: Error) => err instanceof ConfigInvalid && why.test(err.message), text)
    }
    writeFileSync(path, ' '.repeat(2 * 1024 * 1024))
    assert.throws(() => loadConfig(path), /larger than 1 MiB/)
  })
})
