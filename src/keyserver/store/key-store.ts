import type { SignedOperation } from '../operation.js'
import type { NameState } from '../name-log.js'

/** A name's state with the log entry that made it so (what a lookup returns, and can be checked alone). */
export interface StoredName {
  state: NameState
  operation: SignedOperation
  /** The holding key's fingerprint digits, as stored (saves recomputing it per answer). */
  fingerprint?: string
}

/** One accepted operation, with everything the store indexes about the state after it. */
export interface LogAppend {
  operation: SignedOperation
  /** The state after the operation; its seq is one more than the stored one. */
  state: NameState
  skeleton: string
  /** Peer ID and fingerprint digits of the holding key; undefined once deleted. */
  peerId?: string
  fingerprint?: string
  acceptedAt: number
}

/**
 * Where the key server keeps names and their logs: an SQLite file for one
 * instance, PostgreSQL for several behind a load balancer. append is atomic
 * and checks what a concurrent writer could have changed since the state was
 * read (the head, the nonce, the confusable and one-name-per-key indexes),
 * throwing StaleHead, ReplayedNonce, NameConfusable or KeyHasName.
 */
export interface KeyStore {
  readonly kind: 'sqlite' | 'postgres'
  get: (username: string) => Promise<StoredName | undefined>
  nonceSeen: (nonce: string) => Promise<boolean>
  append: (change: LogAppend) => Promise<void>
  /** Log entries from sequence number `from`, at most `limit`. */
  log: (username: string, from: number, limit: number) => Promise<SignedOperation[]>
  /** Live names starting with prefix, after `after` in byte order, at most `limit`. */
  search: (prefix: string, after: string, limit: number) => Promise<StoredName[]>
  byFingerprint: (fingerprint: string, limit: number) => Promise<StoredName[]>
  /** Forgets nonces seen before `before` (ms); their timestamps are stale by then anyway. */
  purgeNonces: (before: number) => Promise<number>
  ping: () => Promise<void>
  close: () => Promise<void>
}

/** The upper bound of a prefix range: '~' sorts after every username character. */
export function prefixEnd (prefix: string): string {
  return prefix + '~'
}

/** What both stores select for a name: its row and the log entry behind its state. */
export const SELECT_NAME = `SELECT n.username, n.user_id, n.fingerprint, n.display_name, n.seq, n.head, n.updated_at, l.operation
  FROM names n JOIN log l ON l.username = n.username AND l.seq = n.seq - 1`

export interface NameRow { username: string, user_id: string | null, fingerprint: string | null, display_name: string, seq: number, head: string, updated_at: number, operation: string }

/** A row as either store returns it; its operation was checked when it was stored. */
export function toStoredName (row: NameRow): StoredName {
  const state: NameState = { username: row.username, seq: Number(row.seq), head: row.head, displayName: row.display_name, updatedAt: Number(row.updated_at) }
  if (row.user_id != null) state.key = row.user_id
  const stored: StoredName = { state, operation: JSON.parse(row.operation) as SignedOperation }
  if (row.fingerprint != null) stored.fingerprint = row.fingerprint
  return stored
}
