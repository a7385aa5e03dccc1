import { CspaceError } from '../errors.js'

/**
 * Errors of the key server protocol. Each carries the HTTP status the server
 * answers with; the client turns an error response back into the same class,
 * so the CLI prints the server's one-line reason.
 */
export class KeyServerError extends CspaceError {
  readonly status: number

  constructor (code: string, message: string, status: number, exitCode: 1 | 2 = 2) {
    super(code, message, exitCode)
    this.status = status
  }
}

export class InvalidUsername extends KeyServerError {
  constructor (name: string, why: string) {
    super('INVALID_USERNAME', `${JSON.stringify(name.slice(0, 40))} cannot be a username: ${why} (use 3-32 of a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit)`, 400)
  }
}

/** A search's prefix, or the name it continues after, is not made of a username's characters. */
export class InvalidSearchPrefix extends KeyServerError {
  constructor (what: string, value: string, why: string) {
    super('INVALID_REQUEST', `${JSON.stringify(value.slice(0, 40))} is not ${what}: ${why}`, 400)
  }
}

/** The request body is not a well-formed operation (missing, extra or mistyped fields). */
export class InvalidOperation extends KeyServerError {
  constructor (why: string) {
    super('INVALID_OPERATION', `invalid operation: ${why}`, 400)
  }
}

export class InvalidQuery extends KeyServerError {
  constructor (why: string) {
    super('INVALID_REQUEST', `invalid query: ${why}`, 400)
  }
}

export class BadSignature extends KeyServerError {
  constructor (which: string) {
    super('BAD_SIGNATURE', `the ${which} signature does not verify; sign the operation with the key it names`, 403)
  }
}

export class WrongKey extends KeyServerError {
  constructor (username: string) {
    super('WRONG_KEY', `the operation is signed by a key that does not hold "${username}"; only its current key may change it`, 403)
  }
}

export class StaleTimestamp extends KeyServerError {
  constructor (skewSeconds: number, windowSeconds: number) {
    super('STALE_TIMESTAMP', `the operation's timestamp is ${skewSeconds} s away from the server's clock (at most ${windowSeconds} s allowed); check your clock and sign again`, 400)
  }
}

export class ReplayedNonce extends KeyServerError {
  constructor () {
    super('REPLAYED_NONCE', 'this operation\'s nonce was already used; sign a fresh operation', 409)
  }
}

/** The operation does not follow the name's current log head: someone changed it meanwhile. */
export class StaleHead extends KeyServerError {
  constructor (username: string) {
    super('STALE_HEAD', `"${username}" changed since the operation was signed; look it up again and retry`, 409)
  }
}

export class NameTaken extends KeyServerError {
  constructor (username: string) {
    super('NAME_TAKEN', `the username "${username}" is taken; choose another`, 409)
  }
}

export class NameConfusable extends KeyServerError {
  constructor (username: string, existing: string) {
    super('NAME_CONFUSABLE', `"${username}" is too easily mistaken for the existing username "${existing}"; choose another`, 409)
  }
}

export class KeyHasName extends KeyServerError {
  constructor (existing: string) {
    super('KEY_HAS_NAME', `this key already holds the username "${existing}"; a key holds one username (delete it first to take another)`, 409)
  }
}

export class UsernameNotFound extends KeyServerError {
  constructor (username: string) {
    super('USERNAME_NOT_FOUND', `no user "${username}" on the key server`, 404)
  }
}

export class UsernameDeleted extends KeyServerError {
  constructor (username: string) {
    super('USERNAME_DELETED', `"${username}" was deleted by its owner; its history remains (\`cspace keyserver lookup ${username} --history\`, or GET /v1/users/${username}/log)`, 410)
  }
}

export class KeyNotFound extends KeyServerError {
  constructor () {
    super('KEY_NOT_FOUND', 'no username is registered for this key', 404)
  }
}

/** The key server could not be reached, or answered something that is not the protocol. */
export class KeyServerUnavailable extends KeyServerError {
  constructor (url: string, why: string) {
    super('KEYSERVER_UNAVAILABLE', `the key server at ${url} cannot be used: ${why}`, 503, 1)
  }
}

/**
 * What the server returned does not verify: a signature, the hash chain, or a
 * key other than the one asked for. A server that lies is caught here.
 */
export class UntrustworthyAnswer extends KeyServerError {
  constructor (why: string) {
    super('KEYSERVER_ANSWER_INVALID', `the key server's answer does not verify (${why}); do not trust it, and tell its operator`, 502, 1)
  }
}
