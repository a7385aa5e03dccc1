/**
 * What a per-IP cap counts a remote address against: an IPv4 address, or
 * its IPv6 /64 — one subscriber is commonly given a whole /64, so counting
 * single IPv6 addresses would not cap anyone. Used for pending handshakes
 * (secure-tcp.ts) and a router's relay slots (relay.ts).
 */
export function addressSource (address: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (v4 != null) return v4[1]
  const [head, tail] = address.split('%')[0].split('::')
  const groups = head === '' ? [] : head.split(':')
  if (tail != null) {
    const rest = tail === '' ? [] : tail.split(':')
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest)
  }
  return `${groups.slice(0, 4).map(g => parseInt(g, 16).toString(16)).join(':')}::/64`
}
