import type { Multiaddr } from '@multiformats/multiaddr'
import type { AddressManager } from '@libp2p/interface-internal'

/**
 * Gives a hole-punching service (DCUtR) our punch address — the IP a router
 * saw us at, with our listening port and our peer ID — and nobody else.
 *
 * DCUtR sends what the address manager lists in its CONNECT message, and
 * identify advertises the same list to every peer. With the punch address
 * in the address manager, the side that receives a relayed connection first
 * dials it as an ordinary address (DCUtR's "unilateral upgrade"); a NAT
 * drops that SYN silently, so every punch waited DCUtR's 5 s timeout before
 * it began. Seen only by DCUtR, the address is still offered for the punch,
 * and the unilateral dial is kept for peers whose address a router really
 * reached.
 */
export function withPunchAddress<C extends { addressManager: AddressManager }, S> (factory: (components: C) => S, punchAddress: () => Multiaddr | undefined): (components: C) => S {
  return (components) => {
    const real = components.addressManager
    const addressManager: AddressManager = Object.create(real, {
      getAddresses: {
        value: (): Multiaddr[] => {
          const addresses = real.getAddresses()
          const punch = punchAddress()
          return punch == null ? addresses : [...addresses, punch]
        }
      }
    })
    return factory(Object.create(components, { addressManager: { value: addressManager } }))
  }
}
