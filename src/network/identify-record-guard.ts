import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { Libp2p, PeerId, PublicKey } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { reader } from 'protons-runtime'
import { costlyKeyReason } from '../identity/index.js'
import { RefusedPeerRecord } from './errors.js'
import { guardMessages, type MessageLimit } from './message-size-guard.js'

/** libp2p identify's protocol (its default prefix, `ipfs`); the node runs no identify-push. */
export const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'

/**
 * The fields libp2p's generated decoders read (identify.proto, envelope.proto),
 * each as length-delimited whatever its wire type says, as protons does; any
 * other field is skipped by its wire type. Read the same way here, a message
 * cannot mean one thing to this check and another to identify.
 */
const IDENTIFY_FIELDS = new Set([1, 2, 3, 4, 5, 6, 8])
const ENVELOPE_FIELDS = new Set([1, 2, 3, 5])
/** Identify's `signedPeerRecord` and the envelope's `public_key`. */
const SIGNED_PEER_RECORD_FIELD = 8
const ENVELOPE_PUBLIC_KEY_FIELD = 1

/**
 * The public key bytes of the signed peer record in an identify message, or
 * undefined if it carries none (empty if the record has no key). As
 * protobuf reads a field that is not declared repeated, the last one counts.
 */
export function signedRecordKey (identifyMessage: Uint8Array): Uint8Array | undefined {
  const envelope = lastField(identifyMessage, SIGNED_PEER_RECORD_FIELD, IDENTIFY_FIELDS)
  return envelope == null ? undefined : lastField(envelope, ENVELOPE_PUBLIC_KEY_FIELD, ENVELOPE_FIELDS) ?? new Uint8Array(0)
}

/** The last value of `field` in a protobuf message whose fields `known` are length-delimited; throws on a malformed one. */
function lastField (message: Uint8Array, field: number, known: Set<number>): Uint8Array | undefined {
  const r = reader(message)
  let found: Uint8Array | undefined
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (!known.has(tag >>> 3)) {
      r.skipType(tag & 7)
      continue
    }
    const value = r.bytes()
    if (tag >>> 3 === field) found = value
  }
  return found
}

/**
 * Why an identify message from `peer` is refused, or undefined. libp2p's
 * identify checks a signed peer record's signature with the key the record
 * carries, and only then compares that key with the peer's: a record signed
 * by any key, the costliest an attacker can make (an RSA key with a long
 * exponent: 5.7 ms a check against 0.04), was checked once per connection.
 * Here the key must be the peer's, and cheap to check, before libp2p reads
 * the message; a message libp2p could not decode is refused too.
 */
export function identifyRefusal (message: Uint8Array, peer: PeerId): RefusedPeerRecord | undefined {
  let keyBytes: Uint8Array | undefined
  try {
    keyBytes = signedRecordKey(message)
  } catch (err) {
    return new RefusedPeerRecord(peer, `the message is not a protobuf (${(err as Error).message})`)
  }
  if (keyBytes == null) return undefined
  let key: PublicKey
  try {
    key = publicKeyFromProtobuf(keyBytes)
  } catch (err) {
    return new RefusedPeerRecord(peer, `its signed peer record's key cannot be read (${(err as Error).message})`)
  }
  const costly = costlyKeyReason(key)
  if (costly != null) return new RefusedPeerRecord(peer, `its signed peer record's key is refused: ${costly}`)
  let signer: PeerId
  try {
    signer = peerIdFromPublicKey(key)
  } catch (err) {
    // an ECDSA key is read, but names no peer
    return new RefusedPeerRecord(peer, `its signed peer record's ${key.type} key names no peer (${(err as Error).message})`)
  }
  if (!signer.equals(peer)) return new RefusedPeerRecord(peer, 'its signed peer record is signed by another key than the peer\'s')
  return undefined
}

/**
 * Checks every identify message that arrives, on the streams this node
 * opens to ask a peer and on any a peer opens, against identifyRefusal; a
 * refused one aborts its stream before identify reads it. `limit` bounds each
 * message (identify's own limit, enforced again here so that no more is
 * copied).
 */
export function guardIdentifyRecords (node: Pick<Libp2p, 'use'> & { services: { identify: unknown } }, limit: MessageLimit): void {
  // the service's protocol is not in its interface, but is on the object (@libp2p/identify utils.js)
  const protocol = (node.services.identify as { protocol?: string }).protocol
  if (protocol !== IDENTIFY_PROTOCOL) throw new Error(`identify speaks ${String(protocol)}, not ${IDENTIFY_PROTOCOL}: review network/identify-record-guard.ts`)
  // each stream runs its own copy of the middleware list (guardProtocolMessages, js-libp2p#3534)
  node.use(IDENTIFY_PROTOCOL, (stream, connection, next) => {
    guardMessages(stream, limit, (body) => identifyRefusal(body, connection.remotePeer))
    next(stream, connection)
  })
}
