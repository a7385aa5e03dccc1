import { operationHash, verifyOperationSignatures, type SignedOperation } from './operation.js'
import { InvalidOperation, NameTaken, StaleHead, UntrustworthyAnswer, UsernameNotFound, WrongKey } from './errors.js'

/** What a name's log says now: who holds it, since when, and the head of its hash chain. */
export interface NameState {
  username: string
  /** Entries so far; the next entry gets this sequence number. */
  seq: number
  /** Hash of the last entry, '' before the first. */
  head: string
  /** The holding key's user ID; undefined while the name is free (never registered, or deleted). */
  key?: string
  displayName: string
  /** Signer's timestamp of the last entry, 0 before the first. */
  updatedAt: number
}

export function emptyNameState (username: string): NameState {
  return { username, seq: 0, head: '', displayName: '', updatedAt: 0 }
}

/**
 * The one rule book of the log, used by the server before it stores an entry
 * and by every client when it replays a log: an operation must extend the
 * current head, be signed by the key(s) it names, and be one the current
 * holder may make. Returns the state after it; throws the reason otherwise.
 */
export async function applyOperation (state: NameState, op: SignedOperation): Promise<NameState> {
  if (op.username !== state.username) throw new InvalidOperation(`the operation is for "${op.username}", not "${state.username}"`)
  if (op.prev !== state.head) throw new StaleHead(state.username)
  switch (op.op) {
    case 'register':
      if (state.key != null) throw new NameTaken(state.username)
      break
    case 'update':
    case 'delete':
      if (state.key == null) throw new UsernameNotFound(state.username)
      if (op.key !== state.key) throw new WrongKey(state.username)
      break
    case 'rotate':
      if (state.key == null) throw new UsernameNotFound(state.username)
      if (op.oldKey !== state.key) throw new WrongKey(state.username)
      break
  }
  await verifyOperationSignatures(op)
  const next: NameState = { username: state.username, seq: state.seq + 1, head: operationHash(op), displayName: op.displayName, updatedAt: op.timestamp }
  if (op.op !== 'delete') next.key = op.key
  else next.displayName = ''
  return next
}

/** One key's time holding the name, as a replayed log shows it. */
export interface KeyTenure {
  key: string
  /** Sequence number of the entry that gave the name to this key. */
  fromSeq: number
  /** How it got the name: registered it, or the previous key rotated to it. */
  how: 'register' | 'rotate'
  since: number
}

export interface ReplayedLog {
  state: NameState
  /** Hash of each entry, by sequence number. */
  hashes: string[]
  /** The key holding the name after each entry (undefined after a delete). */
  holders: Array<string | undefined>
  tenures: KeyTenure[]
}

/**
 * Replays a whole log from the first entry, checking every link and
 * signature; throws UntrustworthyAnswer naming the first entry that fails.
 */
export async function replayLog (username: string, log: readonly SignedOperation[]): Promise<ReplayedLog> {
  let state = emptyNameState(username)
  const hashes: string[] = []
  const holders: Array<string | undefined> = []
  const tenures: KeyTenure[] = []
  for (const [seq, op] of log.entries()) {
    try {
      state = await applyOperation(state, op)
    } catch (err) {
      throw new UntrustworthyAnswer(`entry ${seq} of "${username}"'s log: ${(err as Error).message}`)
    }
    hashes.push(state.head)
    holders.push(state.key)
    if (op.op === 'register' || op.op === 'rotate') tenures.push({ key: op.key, fromSeq: seq, how: op.op, since: op.timestamp })
  }
  return { state, hashes, holders, tenures }
}
