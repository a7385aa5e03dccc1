import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { PublicKey } from '@libp2p/interface'
import { varint } from './varint.js'

/**
 * An RSA public key whose exponent is as long as its modulus (3072 bits by default),
 * as anyone can make one up (it needs no private key): each verification
 * with it costs ~100 times one with 65537. Returns the key and its libp2p
 * protobuf form.
 */
export function rsaKeyWithLongExponent (bits = 3072): { key: PublicKey, protobuf: Uint8Array } {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' })
  const e = randomBytes(bits / 8)
  e[0] |= 0x80
  e[e.length - 1] |= 1
  const spki = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: e.toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'der' })
  // libp2p's PublicKey protobuf: field 1 (Type) = 0 (RSA), field 2 (Data) = the SPKI
  const protobuf = Buffer.concat([Buffer.from([0x08, 0x00, 0x12]), varint(spki.length), spki])
  return { key: publicKeyFromProtobuf(protobuf), protobuf }
}
