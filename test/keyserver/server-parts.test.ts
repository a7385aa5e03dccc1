import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { rateLimitKey } from '../../src/keyserver/server/key-server-app.js'
import { redactDbUrl } from '../../src/keyserver/store/open-key-store.js'
import { parseUserId, userIdFromPublicKey } from '../../src/identity/index.js'

describe('key server parts', () => {
  test('rate limits count an IPv6 /64 as one client, IPv4 addresses each', () => {
    assert.equal(rateLimitKey('203.0.113.5'), '203.0.113.5')
    assert.equal(rateLimitKey('::ffff:203.0.113.5'), '203.0.113.5')
    assert.equal(rateLimitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
    assert.equal(rateLimitKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64')
    assert.equal(rateLimitKey('2001:db8::1'), '2001:db8:0:0::/64')
    assert.equal(rateLimitKey('::1'), '0:0:0:0::/64')
    assert.notEqual(rateLimitKey('2001:db8:1:3::1'), rateLimitKey('2001:db8:1:2::1'))
  })

  test('a PostgreSQL password never reaches a log line, wherever the URL carries it', () => {
    assert.equal(redactDbUrl('postgres://ks:s3cret@db/keys'), 'postgres://ks:***@db/keys')
    assert.ok(!redactDbUrl('postgres://u:p@ss@host/db').includes('ss@'), 'an @ in the password')
    assert.equal(redactDbUrl('postgresql://u@host/db?password=s3cret&sslmode=require'), 'postgresql://u@host/db?password=***&sslmode=require')
    assert.ok(!redactDbUrl('postgres://u:%zz@host:notaport/db').includes('%zz'))
    assert.equal(redactDbUrl('/var/lib/keys.db'), '/var/lib/keys.db')
    assert.equal(redactDbUrl('pg://ks:s3cret@db/keys'), 'pg://ks:***@db/keys', 'a mistyped scheme')
    assert.equal(redactDbUrl('pg://u:%zz@host:notaport/db'), 'pg://(a URL that does not parse)')
    assert.equal(redactDbUrl('postgres:/ks:s3cret@db/keys'), 'postgres:/ks:***@db/keys', 'a slash missing')
  })

  test('RSA keys under 2048 bits are refused as user IDs', async () => {
    const weak = await generateKeyPair('RSA', 1024)
    assert.throws(() => parseUserId(userIdFromPublicKey(weak.publicKey).text), /RSA key of 1024 bits is too weak \(at least 2048\)/)
    const strong = await generateKeyPair('RSA', 2048)
    assert.equal(parseUserId(userIdFromPublicKey(strong.publicKey).text).publicKey.type, 'RSA')
  })
})
