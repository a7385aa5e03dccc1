import type { SignedOperation } from '../operation.js'
import type { NameState } from '../name-log.js'

/** A name's state with the log entry that made it so (what a lookup returns, and can be checked alone). */
export interface StoredName {
  state: NameState
  operation: SignedOperation
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
  /** The live username whose skeleton this is, if any. */
  holderOfSkeleton: (skeleton: string) => Promise<string | undefined>
  /** The live username this key holds, if any. */
  nameOfPeer: (peerId: string) => Promise<string | undefined>
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
