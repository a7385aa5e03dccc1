import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { handshakeSource } from '../../src/network/secure-tcp.js'

describe('what a pending handshake is counted against', () => {
  test('an IPv4 address, also when the listener is dual-stack', () => {
    assert.equal(handshakeSource('203.0.113.7'), '203.0.113.7')
    assert.equal(handshakeSource('::ffff:203.0.113.7'), '203.0.113.7')
  })

  test('an IPv6 address counts as its /64, however it is written', () => {
    const source = handshakeSource('2001:db8:1:2::1')
    assert.equal(source, '2001:db8:1:2::/64')
    assert.equal(handshakeSource('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), source)
    assert.equal(handshakeSource('2001:db8:1:2:a:b:c:d'), source)
    assert.notEqual(handshakeSource('2001:db8:1:3::1'), source)
    assert.equal(handshakeSource('2001:db8::1'), '2001:db8:0:0::/64')
    assert.equal(handshakeSource('::1'), '0:0:0:0::/64')
    assert.equal(handshakeSource('fe80::1%eth0'), 'fe80:0:0:0::/64')
  })
})
