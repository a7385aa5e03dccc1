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
