import type { SignedOperation } from './operation.js'

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
