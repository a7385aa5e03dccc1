import type { SignedOperation } from './operation.js'

/** The most names a key lookup (GET /v1/keys/:fingerprint) answers with; a client refuses more. */
export const MAX_NAMES_PER_KEY = 10

/** Wire format v1 of a lookup answer: a name's state and the log entry that made it so. */
export interface Entry {
  username: string
  /** The holding key's user ID; null once deleted. */
  key: string | null
  /** The key's fingerprint as `cspace id` prints it; null once deleted. */
  fingerprint: string | null
  displayName: string
  /** Entries in the name's log. */
  seq: number
  updatedAt: number
  operation: SignedOperation
}
