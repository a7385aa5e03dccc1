import { createHash } from 'node:crypto'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PeerId, PublicKey } from '@libp2p/interface'
import { InvalidUserId } from './errors.js'
import { costlyKeyReason, rsaBits } from './public-key.js'

/**
 * A user ID is one copy-pasteable token that carries the whole public key, so a
 * contact can be verified without the network (RSA peer IDs only carry a hash):
 *
 *   "cs1" + base32(protobuf(publicKey) || sha256(protobuf(publicKey))[0..4])
 *
 * base32 (RFC 4648, lower case, no padding) survives case-folding chat clients;
 * the 4-byte checksum catches typos before anything touches the network.
 */
export const USER_ID_PREFIX = 'cs1'
const CHECKSUM_BYTES = 4
/** An RSA-4096 key is ~550 bytes in protobuf; nothing legitimate is larger. */
const MAX_USER_ID_LENGTH = 1200
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export interface UserId {
  /** The token itself, as printed by `cspace id`. */
  readonly text: string
  readonly publicKey: PublicKey
  readonly peerId: PeerId
}

export function userIdFromPublicKey (publicKey: PublicKey): UserId {
  const pb = publicKeyToProtobuf(publicKey)
  const text = USER_ID_PREFIX + base32Encode(Buffer.concat([pb, checksum(pb)]))
  return { text, publicKey, peerId: peerIdFromPublicKey(publicKey) }
}

/** Parses and checks a user ID token; throws InvalidUserId with the reason. */
export function parseUserId (input: string): UserId {
  const text = input.trim().toLowerCase()
  if (text.length > MAX_USER_ID_LENGTH) throw new InvalidUserId('too long')
  if (!text.startsWith(USER_ID_PREFIX)) throw new InvalidUserId(`it must start with "${USER_ID_PREFIX}"`)
  const bytes = base32Decode(text.slice(USER_ID_PREFIX.length))
  if (bytes == null) throw new InvalidUserId('it has characters that are not base32, or a character too many or too few')
  if (bytes.length <= CHECKSUM_BYTES) throw new InvalidUserId('too short')
  const pb = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  if (!checksum(pb).equals(bytes.subarray(bytes.length - CHECKSUM_BYTES))) {
    throw new InvalidUserId('checksum mismatch (a character is wrong or missing)')
  }
  let publicKey: PublicKey
  try {
    publicKey = publicKeyFromProtobuf(pb)
  } catch (err) {
    throw new InvalidUserId(`not a public key (${(err as Error).message})`)
  }
  if (publicKey.type !== 'Ed25519' && publicKey.type !== 'RSA') throw new InvalidUserId(`unsupported key type ${publicKey.type}`)
  if (publicKey.type === 'RSA' && rsaBits(publicKey, 'n') < MIN_RSA_BITS) throw new InvalidUserId(`an RSA key of ${rsaBits(publicKey, 'n')} bits is too weak (at least ${MIN_RSA_BITS})`)
  const costly = costlyKeyReason(publicKey)
  if (costly != null) throw new InvalidUserId(`its key is refused: ${costly}`)
  return userIdFromPublicKey(publicKey)
}

/** RSA keys shorter than this can be factored by whoever wants the name or the identity. */
const MIN_RSA_BITS = 2048

/** True when the string looks like a user ID rather than a contact name. */
export function looksLikeUserId (input: string): boolean {
  const t = input.trim().toLowerCase()
  return t.startsWith(USER_ID_PREFIX) && t.length > 40
}

function checksum (pb: Uint8Array): Buffer {
  return createHash('sha256').update(pb).digest().subarray(0, CHECKSUM_BYTES)
}

function base32Encode (bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

function base32Decode (text: string): Buffer | undefined {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch)
    if (v < 0) return undefined
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  // a canonical encoding ends with fewer than 5 spare bits, all zero: this
  // refuses IDs with a stray character appended
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return undefined
  return Buffer.from(out)
}
