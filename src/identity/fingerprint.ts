import { createHash } from 'node:crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PublicKey } from '@libp2p/interface'

/**
 * A fingerprint two people can read to each other over the phone: 30 decimal
 * digits in six groups of five (like Signal's safety numbers), ~100 bits of
 * SHA-256 over the public key. Digits are unambiguous in every language.
 */
export function fingerprint (publicKey: PublicKey): string {
  const digest = createHash('sha256').update(publicKeyToProtobuf(publicKey)).digest()
  const groups: string[] = []
  for (let i = 0; i < 6; i++) {
    // 5 bytes (40 bits) per group, reduced to 5 digits: the bias is negligible.
    const chunk = digest.readUIntBE(i * 5, 5)
    groups.push(String(chunk % 100000).padStart(5, '0'))
  }
  return groups.join(' ')
}
