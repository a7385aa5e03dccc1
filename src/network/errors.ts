import type { PeerId } from '@libp2p/interface'
import { CspaceError } from '../errors.js'

/** A presence record failed validation (signature, size, expiry, sequence or shape). */
export class InvalidPresenceRecord extends CspaceError {
  constructor (why: string) {
    super('INVALID_PRESENCE_RECORD', `invalid presence record: ${why}`)
  }
}

/** A multiaddr given on the command line or in config cannot be used. */
export class InvalidAddress extends CspaceError {
  constructor (addr: string, why: string) {
    super('INVALID_ADDRESS', `invalid address "${addr}": ${why}`, 2)
  }
}

/** A peer's TLS certificate is not a valid libp2p certificate (the handshake fails). */
export class InvalidPeerCertificate extends CspaceError {
  constructor (why: string) {
    super('INVALID_PEER_CERTIFICATE', `invalid peer certificate: ${why}`)
  }
}

/** A peer sent more on a libp2p protocol stream than its limit allows (message-size-guard.ts); the stream is reset. */
export class MessageTooLarge extends CspaceError {
  constructor (protocol: string, why: string) {
    super('MESSAGE_TOO_LARGE', `${protocol}: ${why}`)
  }
}

/** A peer's identify message carries a signed peer record whose key is not the peer's, or costly to check (identify-record-guard.ts); the stream is reset. */
export class RefusedPeerRecord extends CspaceError {
  constructor (peer: PeerId, why: string) {
    super('REFUSED_PEER_RECORD', `identify from ${peer.toString()} refused: ${why}`)
  }
}
