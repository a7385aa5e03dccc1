import { test } from 'node:test'
import assert from 'node:assert/strict'
import { splitHostPort } from '../../src/daemon/host-port.js'

test('an expose\'s target: a host name, an address or a bare port (127.0.0.1)', () => {
  assert.deepEqual(splitHostPort('22'), { host: '127.0.0.1', port: 22 })
  assert.deepEqual(splitHostPort('localhost:22'), { host: 'localhost', port: 22 })
  assert.deepEqual(splitHostPort('example.com.:443'), { host: 'example.com.', port: 443 })
  assert.deepEqual(splitHostPort('[::1]:22'), { host: '::1', port: 22 })
  assert.deepEqual(splitHostPort('[fe80::1%eth0]:22'), { host: 'fe80::1%eth0', port: 22 })
  assert.deepEqual(splitHostPort('[::ffff:127.0.0.1]:22'), { host: '::ffff:127.0.0.1', port: 22 })
  for (const bad of ['a b:1', '[nonsense]:1', ':22', '1.2.3.4:0', '1.2.3.4:65536', 'host', '[::1]22', 'é.example:1']) {
    assert.throws(() => splitHostPort(bad), { code: 'INVALID_TARGET', message: `"${bad}" is not HOST:PORT (e.g. 127.0.0.1:22)` }, bad)
  }
})
