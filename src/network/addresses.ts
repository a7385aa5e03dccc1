import type { Multiaddr } from '@multiformats/multiaddr'

/** Small readers of multiaddrs shared by the relay, reachability and hole-punching code. */

/** A relay-circuit address (through a router) rather than a direct one. */
export function isRelayed (addr: string | Multiaddr): boolean {
  return addr.toString().includes('/p2p-circuit')
}

/** The peer ID of the router a relay-circuit address goes through; undefined for a direct address. */
export function routerOf (addr: string | Multiaddr): string | undefined {
  if (!isRelayed(addr)) return undefined
  const ids = addr.toString().split('/p2p-circuit')[0].split('/p2p/')
  return ids.length > 1 ? ids[ids.length - 1] : undefined
}

/** The IP part (ip4 or ip6) of an address. */
export function ipOf (ma: Multiaddr): { name: 'ip4' | 'ip6', value: string } | undefined {
  const ip = ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  return ip?.value != null ? { name: ip.name as 'ip4' | 'ip6', value: ip.value } : undefined
}

/** The TCP port of a direct address; undefined for relay circuits and other transports. */
export function tcpPort (ma: Multiaddr): number | undefined {
  if (isRelayed(ma)) return undefined
  const tcp = ma.getComponents().find(c => c.name === 'tcp')
  return tcp?.value != null ? Number(tcp.value) : undefined
}

/** Host and port of a direct TCP address, optionally of one IP family only. */
export function tcpTarget (ma: Multiaddr, family?: 'ip4' | 'ip6'): { host: string, port: number } | undefined {
  const ip = ipOf(ma)
  const port = tcpPort(ma)
  if (ip == null || port == null || (family != null && ip.name !== family)) return undefined
  return { host: ip.value, port }
}
