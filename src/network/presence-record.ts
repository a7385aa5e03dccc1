import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createHash } from 'node:crypto'
import { costlyKeyReason } from '../identity/index.js'
import { InvalidPresenceRecord } from './errors.js'

/**
 * The presence record: "user K is online at these addresses", signed by K and
 * stored in the DHT under /cspace/<multihash of K's peer id>.
 *
 * Wire format, version 1 (UTF-8 JSON, at most MAX_PRESENCE_BYTES):
 *   {"v":1,"payload":"<base64 of payload JSON>","sig":"<base64>"}
 *   payload: {"v":1,"key":"<base64 protobuf public key>","addrs":[...],"seq":N,"expires":ms,"online":bool}
 * The signature covers PRESENCE_SIGNING_DOMAIN || payload bytes, so the bytes
 * signed are the bytes checked (no canonicalisation), and a presence signature
 * can never be replayed as any other kind of cspace or libp2p signature.
 */
export const PRESENCE_NAMESPACE = 'cspace'
export const MAX_PRESENCE_BYTES = 4096
export const MAX_PRESENCE_ADDRESSES = 16
const MAX_ADDRESS_LENGTH = 256
const PRESENCE_SIGNING_DOMAIN = Buffer.from('cspace-presence-v1:')
const KEY_PREFIX = Buffer.from(`/${PRESENCE_NAMESPACE}/`)

export interface PresenceRecord {
  readonly publicKey: PublicKey
  readonly peerId: PeerId
  /** Multiaddrs without the /p2p suffix. Empty when offline. */
  readonly addresses: string[]
  /** Strictly increasing per user; a DHT node never replaces a record with a lower one. */
  readonly seq: number
  /** Unix ms after which the record is invalid everywhere. */
  readonly expires: number
  readonly online: boolean
}

/** The DHT key under which a user's presence lives. */
export function presenceKey (peerId: PeerId): Uint8Array {
  return Buffer.concat([KEY_PREFIX, peerId.toMultihash().bytes])
}

export async function encodePresence (privateKey: PrivateKey, r: Omit<PresenceRecord, 'publicKey' | 'peerId'>): Promise<Uint8Array> {
  const payload = Buffer.from(JSON.stringify({
    v: 1,
    key: Buffer.from(publicKeyToProtobuf(privateKey.publicKey)).toString('base64'),
    addrs: r.addresses,
    seq: r.seq,
    expires: r.expires,
    online: r.online
  }))
  const sig = await privateKey.sign(Buffer.concat([PRESENCE_SIGNING_DOMAIN, payload]))
  const out = Buffer.from(JSON.stringify({ v: 1, payload: payload.toString('base64'), sig: Buffer.from(sig).toString('base64') }))
  if (out.length > MAX_PRESENCE_BYTES) throw new InvalidPresenceRecord(`record would be ${out.length} bytes, over the ${MAX_PRESENCE_BYTES}-byte limit`)
  return out
}

/** Records verified lately, by a digest of DHT key and bytes; past this many, the oldest is forgotten. */
export const MAX_VERIFIED_RECORDS = 256
const verified = new Map<string, PresenceRecord>()

/**
 * Decodes and verifies a record: shape, size, signature, and that the signing
 * key is the one the DHT key names. Expiry and sequence are the caller's
 * policy (they depend on the clock and on what is already held).
 *
 * The same bytes verify the same way, and a lookup gets one record from
 * many peers, each checked by kad-dht's validator and again by the
 * resolver: ~0.3 ms each (a key import and a signature check). So a record
 * that verified is remembered, frozen, by a SHA-256 of its DHT key and
 * bytes; a failure is never remembered.
 */
export async function decodePresence (key: Uint8Array, value: Uint8Array): Promise<PresenceRecord> {
  if (value.byteLength > MAX_PRESENCE_BYTES) throw new InvalidPresenceRecord(`${value.byteLength} bytes, over the ${MAX_PRESENCE_BYTES}-byte limit`)
  const digest = createHash('sha256').update(Buffer.from([key.byteLength >> 8, key.byteLength & 0xff])).update(key).update(value).digest('base64')
  const known = verified.get(digest)
  if (known != null) return known
  const record = await verifyPresence(key, value)
  Object.freeze(record.addresses)
  Object.freeze(record)
  if (verified.size >= MAX_VERIFIED_RECORDS) verified.delete(verified.keys().next().value as string)
  verified.set(digest, record)
  return record
}

async function verifyPresence (key: Uint8Array, value: Uint8Array): Promise<PresenceRecord> {
  const outer = parseJson(value, 'envelope')
  if (!isObject(outer) || outer.v !== 1) throw new InvalidPresenceRecord('unknown envelope version')
  if (typeof outer.payload !== 'string' || typeof outer.sig !== 'string') throw new InvalidPresenceRecord('envelope needs payload and sig strings')
  const payloadBytes = Buffer.from(outer.payload, 'base64')
  const sig = Buffer.from(outer.sig, 'base64')
  const p = parseJson(payloadBytes, 'payload')
  if (!isObject(p) || p.v !== 1) throw new InvalidPresenceRecord('unknown payload version')
  if (typeof p.key !== 'string') throw new InvalidPresenceRecord('payload.key must be a string')
  if (!Array.isArray(p.addrs) || p.addrs.length > MAX_PRESENCE_ADDRESSES) throw new InvalidPresenceRecord(`payload.addrs must be a list of at most ${MAX_PRESENCE_ADDRESSES}`)
  if (!Number.isSafeInteger(p.seq) || (p.seq as number) < 0) throw new InvalidPresenceRecord('payload.seq must be a non-negative integer')
  if (!Number.isSafeInteger(p.expires)) throw new InvalidPresenceRecord('payload.expires must be an integer')
  if (typeof p.online !== 'boolean') throw new InvalidPresenceRecord('payload.online must be a boolean')
  const addresses: string[] = []
  for (const a of p.addrs as unknown[]) {
    if (typeof a !== 'string' || a.length > MAX_ADDRESS_LENGTH) throw new InvalidPresenceRecord('an address is not a short string')
    try { multiaddr(a) } catch { throw new InvalidPresenceRecord(`address "${a.slice(0, 64)}" is not a multiaddr`) }
    addresses.push(a)
  }
  let publicKey: PublicKey
  try {
    publicKey = publicKeyFromProtobuf(Buffer.from(p.key, 'base64'))
  } catch {
    throw new InvalidPresenceRecord('payload.key is not a public key')
  }
  const costly = costlyKeyReason(publicKey)
  if (costly != null) throw new InvalidPresenceRecord(`payload.key is refused: ${costly}`)
  let peerId: PeerId
  try {
    peerId = peerIdFromPublicKey(publicKey)
  } catch {
    // libp2p parses ECDSA keys but names no peer by one
    throw new InvalidPresenceRecord(`payload.key is refused: a key of type ${publicKey.type} names no peer`)
  }
  if (!Buffer.from(presenceKey(peerId)).equals(Buffer.from(key))) throw new InvalidPresenceRecord('signed by a key other than the one the DHT key names')
  const ok = await publicKey.verify(Buffer.concat([PRESENCE_SIGNING_DOMAIN, payloadBytes]), sig)
  if (!ok) throw new InvalidPresenceRecord('bad signature')
  return { publicKey, peerId, addresses, seq: p.seq as number, expires: p.expires as number, online: p.online }
}

function parseJson (bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new InvalidPresenceRecord(`${what} is not UTF-8 JSON`)
  }
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
