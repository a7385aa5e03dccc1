import type { SignedOperation } from '../operation.js'
import type { ReplayedLog } from '../name-log.js'

/** What a contact remembers of the key server entry it was added from. */
export interface KeyPin {
  url: string
  username: string
  /** The user ID the contact holds. */
  key: string
  /** Sequence number and hash of the log entry the pin was taken at. */
  seq: number
  hash: string
}

/**
 * How a name's log today relates to a pin, as `cspace contacts verify` reports it:
 * - unchanged: the pinned key still holds the name (a display name may have changed);
 * - rotated: the name moved to a new key through rotations, each signed by the key before it,
 *   starting from the pinned one (it may be accepted with --accept); `at` dates the last change of key;
 * - deleted: the owner deleted the name (signed by the key that held it);
 * - replaced: the name was deleted and re-registered by a key the pinned key never signed for;
 * - rewritten: the log no longer holds the entry that was pinned: the server changed history.
 */
export type PinCheck =
  | { kind: 'unchanged', displayName: string, head: { seq: number, hash: string }, repin: boolean }
  | { kind: 'rotated', key: string, at: number, rotations: number, head: { seq: number, hash: string } }
  | { kind: 'deleted', at: number, rotatedAway: boolean }
  | { kind: 'replaced', key: string, at: number }
  | { kind: 'rewritten' }

export function checkPin (pin: KeyPin, log: readonly SignedOperation[], replayed: ReplayedLog): PinCheck {
  // the pinned entry must still be there, and must be one the pinned key held the name at
  if (replayed.hashes[pin.seq] !== pin.hash || replayed.holders[pin.seq] !== pin.key) return { kind: 'rewritten' }
  const head = { seq: replayed.hashes.length - 1, hash: replayed.state.head }
  // replayLog has checked every link and signature, so each rotate here is signed by the key before it
  let key = pin.key
  let live = true
  let rotations = 0
  let at = 0
  for (const op of log.slice(pin.seq + 1)) {
    if (op.op === 'update') continue // a display name: same key, nothing to date
    at = op.timestamp
    if (op.op === 'rotate') {
      key = op.key
      rotations++
    } else if (op.op === 'delete') {
      live = false
    } else if (op.key === key) {
      live = true // the owner took the name back with the key the chain had reached
    } else {
      // any other key, the pinned one included once its owner rotated away from it (it may be stolen)
      return { kind: 'replaced', key: op.key, at }
    }
  }
  if (!live) return { kind: 'deleted', at, rotatedAway: rotations > 0 }
  // back on the pinned key through rotations: the same key, but the pin stays where it was
  if (key === pin.key) return { kind: 'unchanged', displayName: replayed.state.displayName, head, repin: rotations === 0 }
  return { kind: 'rotated', key, at, rotations, head }
}
