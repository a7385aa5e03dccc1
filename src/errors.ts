/**
 * The root of every error cspace raises on purpose. Each layer defines its own
 * subclasses in its errors.ts; callers branch on the class or on `code`, never
 * on message text. The CLI maps `exitCode` to the process exit status.
 */
export class CspaceError extends Error {
  /** Stable, machine-readable identifier, e.g. 'CONTACT_NOT_FOUND'. */
  readonly code: string
  /** 1 for runtime failures, 2 for usage errors (bad input from the user). */
  readonly exitCode: 1 | 2

  constructor (code: string, message: string, exitCode: 1 | 2 = 1, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.exitCode = exitCode
  }
}

/** Input from the user (an argument, a name, an ID) that cannot be used as given. */
export class UsageError extends CspaceError {
  constructor (message: string, code = 'USAGE') {
    super(code, message, 2)
  }
}
