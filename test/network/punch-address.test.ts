import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { AddressManager } from '@libp2p/interface-internal'
import { withPunchAddress } from '../../src/network/punch-address.js'

const LISTEN = multiaddr('/ip4/192.168.1.2/tcp/4001/p2p/12D3KooWR7dgqsmo4ZYR3Ru5DSnxTjoWUf44V4ksx2bAxeRe13jV')
const PUNCH = multiaddr('/ip4/5.0.0.21/tcp/4001/p2p/12D3KooWR7dgqsmo4ZYR3Ru5DSnxTjoWUf44V4ksx2bAxeRe13jV')

test('withPunchAddress: only the wrapped service sees the punch address, and only while there is one', () => {
  const addressManager = { getAddresses: () => [LISTEN], getListenAddrs: () => [LISTEN] } as unknown as AddressManager
  const components = { addressManager, other: 'kept' }
  let punch: Multiaddr | undefined
  const seen = withPunchAddress((c: typeof components) => c, () => punch)(components)

  assert.deepEqual(seen.addressManager.getAddresses().map(String), [LISTEN.toString()], 'no punch address yet: the list as it is')
  punch = PUNCH
  assert.deepEqual(seen.addressManager.getAddresses().map(String), [LISTEN.toString(), PUNCH.toString()])
  // everyone else (identify, presence) keeps the address manager's own list
  assert.deepEqual(components.addressManager.getAddresses().map(String), [LISTEN.toString()])
  assert.equal(seen.other, 'kept')
  assert.deepEqual(seen.addressManager.getListenAddrs().map(String), [LISTEN.toString()], 'the rest of the address manager is the real one')
})
