import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { addressSource } from '../../src/network/address-source.js'

describe('what a per-IP cap counts an address against (pending handshakes, relay slots)', () => {
  test('an IPv4 address, also when the listener is dual-stack', () => {
    assert.equal(addressSource('203.0.113.7'), '203.0.113.7')
    assert.equal(addressSource('::ffff:203.0.113.7'), '203.0.113.7')
  })

  test('an IPv6 address counts as its /64, however it is written', () => {
    const source = addressSource('2001:db8:1:2::1')
    assert.equal(source, '2001:db8:1:2::/64')
    assert.equal(addressSource('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), source)
    assert.equal(addressSource('2001:db8:1:2:a:b:c:d'), source)
    assert.notEqual(addressSource('2001:db8:1:3::1'), source)
    assert.equal(addressSource('2001:db8::1'), '2001:db8:0:0::/64')
    assert.equal(addressSource('::1'), '0:0:0:0::/64')
    assert.equal(addressSource('fe80::1%eth0'), 'fe80:0:0:0::/64')
  })
})
