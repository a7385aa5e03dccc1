import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import {
  ConfigInvalid, defaultConfig, loadConfig, saveConfig, updateConfig
} from '../../src/store/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'


function isInvalid (path: string, why: RegExp): (err: Error) => boolean {
  return (err: Error) => {
    assert.ok(err instanceof ConfigInvalid, err.message)
    assert.equal(err.code, 'CONFIG_INVALID')
    assert.equal(err.exitCode, 2)
    assert.ok(err.message.includes(path), 'names the file')
    assert.ok(!err.message.includes('\n'), 'one line')
    assert.match(err.message, why)
    return true
  }
}

describe('config.json', () => {
  after(removeTempDirs)

  test('missing file: the defaults', () => {
    const path = join(tempDir(), 'config.json')
    assert.deepEqual(loadConfig(path), {
      listen: ['/ip4/0.0.0.0/tcp/0'],
      announce: [],
      bootstrap: [],
      network: { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 5, maxConnections: 300, relaySlots: 2 },
      router: {},
      presence: { ttlSeconds: 3600 },
      apiPort: 0
    })
    assert.equal(existsSync(path), false, 'loading does not create it')
    const a = defaultConfig()
    a.listen.push('/ip4/127.0.0.1/tcp/1')
    assert.deepEqual(defaultConfig().listen, ['/ip4/0.0.0.0/tcp/0'], 'each call returns a fresh object')
  })

  test('partial file: the rest are defaults; saved 0600 and read back the same', async () => {
    const path = join(tempDir(), 'config.json')
    writeFileSync(path, JSON.stringify({ network: { allowPrivateAddresses: true }, presence: { ttlSeconds: 30 } }))
    const c = loadConfig(path)
    assert.equal(c.network.allowPrivateAddresses, true)
    assert.equal(c.network.inboundConnectionsPerIpPerSecond, 5)
    assert.equal(c.presence.ttlSeconds, 30)
    assert.deepEqual(c.listen, ['/ip4/0.0.0.0/tcp/0'])
    const peer = peerIdFromPublicKey((await generateKeyPair('Ed25519')).publicKey).toString()
    c.bootstrap = [`/ip4/192.0.2.1/tcp/4001/p2p/${peer}`]
    saveConfig(path, c)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual(loadConfig(path), c)
  })

  test('a router\'s limits and a user\'s relay slots: set ones are kept, the rest left to the defaults', () => {
    const path = join(tempDir(), 'config.json')
    writeFileSync(path, JSON.stringify({ router: { maxReservationsPerIp: 4, circuitSeconds: 600 }, network: { relaySlots: 1 }, announce: ['/ip4/5.0.0.1/tcp/4001'] }))
    const c = loadConfig(path)
    assert.deepEqual(c.router, { maxReservationsPerIp: 4, circuitSeconds: 600 })
    assert.equal(c.network.relaySlots, 1)
    assert.deepEqual(c.announce, ['/ip4/5.0.0.1/tcp/4001'])
  })

  test('updateConfig changes one setting and keeps the others', () => {
    const path = join(tempDir(), 'config.json')
    writeFileSync(path, JSON.stringify({ apiPort: 4000 }))
    const saved = updateConfig(path, c => { c.network.maxConnections = 50 })
    assert.equal(saved.network.maxConnections, 50)
    assert.equal(loadConfig(path).network.maxConnections, 50)
    assert.equal(loadConfig(path).apiPort, 4000)
  })

  test('bad files are refused with the field and the file named', () => {
    const path = join(tempDir(), 'config.json')
    const cases: Array<[string, RegExp]> = [
      ['{', /not JSON/],
      ['', /not JSON/],
      ['[]', /the file must be an object/],
      ['null', /the file must be an object/],
      ['{"lisen": []}', /unknown setting "lisen"/],
      ['{"__proto__": {}}', /unknown setting "__proto__"/],
      ['{"network": {"allowPrivate": true}}', /unknown setting "network.allowPrivate"/],
      ['{"presence": {"ttl": 60}}', /unknown setting "presence.ttl"/],
      ['{"network": 5}', /"network" must be an object/],
      ['{"listen": "/ip4/1.2.3.4/tcp/1"}', /"listen" must be a list of strings/],
      ['{"listen": [5]}', /"listen" must be a list of strings/],
      ['{"listen": ["tcp://1.2.3.4:5"]}', /"listen" entry "tcp:\/\/1.2.3.4:5" is not a multiaddr/],
      ['{"listen": [""]}', /"listen" entry "" is empty/],
      ['{"bootstrap": ["/ip4/1.2.3.4/tcp/1"]}', /"bootstrap" entry .* must end in \/p2p\/<peer id>/],
      ['{"bootstrap": ["/ip4/1.2.3.4/tcp/1/p2p/garbage"]}', /invalid peer id/],
      [JSON.stringify({ listen: Array(65).fill('/ip4/0.0.0.0/tcp/0') }), /more than 64 addresses/],
      ['{"apiPort": 70000}', /"apiPort" must be an integer from 0 to 65535/],
      ['{"apiPort": "80"}', /"apiPort" must be an integer/],
      ['{"apiPort": 1.5}', /"apiPort" must be an integer/],
      ['{"presence": {"ttlSeconds": 5}}', /"presence.ttlSeconds" must be an integer from 30 to 86400/],
      ['{"presence": {"ttlSeconds": 86401}}', /"presence.ttlSeconds" must be an integer from 30 to 86400/],
      ['{"network": {"maxConnections": 0}}', /"network.maxConnections" must be an integer/],
      ['{"network": {"inboundConnectionsPerIpPerSecond": -1}}', /"network.inboundConnectionsPerIpPerSecond" must be an integer/],
      ['{"network": {"allowPrivateAddresses": "yes"}}', /"network.allowPrivateAddresses" must be true or false/],
      ['{"network": {"relaySlots": 5}}', /"network.relaySlots" must be an integer from 0 to 4/],
      ['{"router": []}', /"router" must be an object/],
      ['{"router": {"maxSlots": 3}}', /unknown setting "router.maxSlots"/],
      ['{"router": {"maxReservationsPerIp": 0}}', /"router.maxReservationsPerIp" must be an integer from 1/],
      ['{"router": {"circuitBytes": 1000}}', /"router.circuitBytes" must be an integer from 1048576/],
      ['{"router": {"circuitSeconds": "1h"}}', /"router.circuitSeconds" must be an integer/],
      ['{"announce": ["not an address"]}', /"announce" entry "not an address" is not a multiaddr/]
    ]
    for (const [text, why] of cases) {
      writeFileSync(path, text)
      assert.throws(() => loadConfig(path), isInvalid(path, why), text.slice(0, 60))
    }
  })

  test('a file over 1 MiB is refused before it is parsed', () => {
    const path = join(tempDir(), 'config.json')
    writeFileSync(path, '{"listen": []' + ' '.repeat(1024 * 1024) + '}')
    assert.throws(() => loadConfig(path), isInvalid(path, /larger than 1 MiB/))
  })

  test('a directory in its place is refused', () => {
    const path = join(tempDir(), 'config.json')
    mkdirSync(path)
    assert.throws(() => loadConfig(path), isInvalid(path, /not a regular file/))
  })

  test('saveConfig refuses an invalid config and leaves the file as it was', () => {
    const path = join(tempDir(), 'config.json')
    saveConfig(path, defaultConfig())
    const before = readFileSync(path)
    const bad = defaultConfig()
    bad.presence.ttlSeconds = 1
    assert.throws(() => saveConfig(path, bad), ConfigInvalid)
    assert.throws(() => updateConfig(path, c => { c.apiPort = -1 }), ConfigInvalid)
    assert.ok(readFileSync(path).equals(before))
  })
})
