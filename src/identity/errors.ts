import { CspaceError, UsageError } from '../errors.js'

/** The profile has no identity yet. */
export class IdentityMissing extends CspaceError {
  constructor (path: string) {
    super('IDENTITY_MISSING', `no identity at ${path}; run \`cspace init\` first`)
  }
}

export class IdentityExists extends CspaceError {
  constructor (path: string) {
    super('IDENTITY_EXISTS', `an identity already exists at ${path}; use another CSPACE_HOME to create a second one`, 2)
  }
}

/** The key file is encrypted and the passphrase is missing or wrong. */
export class WrongPassphrase extends CspaceError {
  constructor (path: string, missing: boolean) {
    super('WRONG_PASSPHRASE', missing
      ? `the key file ${path} is encrypted; set CSPACE_PASSPHRASE to its passphrase`
      : `wrong passphrase for ${path}; check CSPACE_PASSPHRASE`)
  }
}

export class KeyFileCorrupt extends CspaceError {
  constructor (path: string, why: string) {
    super('KEY_FILE_CORRUPT', `the key file ${path} is unreadable (${why}); restore it from a backup`)
  }
}

/** A string offered as a user ID is not one. */
export class InvalidUserId extends UsageError {
  constructor (why: string) {
    super(`invalid user ID: ${why}; ask the contact for the token \`cspace id\` prints`, 'INVALID_USER_ID')
  }
}
