/** An unsigned varint, as protobuf and libp2p's length prefixes write one. */
export function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 128) { out.push((n % 128) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Uint8Array.from(out)
}
