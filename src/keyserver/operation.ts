import { createHash, randomBytes } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { parseUserId, type UserId } from '../identity/index.js'
import { validateUsername } from './username.js'
import { BadSignature, InvalidOperation } from './errors.js'

export type OperationKind = 'register' | 'update' | 'rotate' | 'delete'
export const OPERATION_KINDS: readonly OperationKind[] = ['register', 'update', 'rotate', 'delete']

/**
 * Version 1 of a signed write, and of an entry in a name's change log. The
 * log is a hash chain: `prev` is the hash of the entry before (empty for the
 * first), so a server cannot drop, reorder or rewrite history without every
 * client that pinned a later entry noticing.
 */
export interface SignedOperation {
  v: 1
  op: OperationKind
  username: string
  /** User ID of the key that holds the name after this operation (for delete: the key that held it). */
  key: string
  /** rotate only: the key that held the name before. */
  oldKey?: string
  /** Shown next to the username; '' for none. */
  displayName: string
  /** Milliseconds since the epoch, by the signer's clock. */
  timestamp: number
  /** 32 hex digits, fresh for every operation. */
  nonce: string
  /** sha256 hex of the previous log entry, '' for the first. */
  prev: string
  /** base64, by `key` over signedBytes(). */
  signature: string
  /** rotate only: base64, by `oldKey` over the same bytes. */
  oldSignature?: string
}

export const DISPLAY_NAME_MAX = 64
const MAX_KEY_CHARS = 1200
const MAX_SIGNATURE_CHARS = 1024 // base64 of an RSA-4096 signature is 684
const FIELDS = ['v', 'op', 'username', 'key', 'oldKey', 'displayName', 'timestamp', 'nonce', 'prev', 'signature', 'oldSignature']
const HEX32 = /^[0-9a-f]{32}$/
const HEX64 = /^[0-9a-f]{64}$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const DOMAIN = 'cspace-keyserver/1 '
/** The last millisecond of 9999: beyond it a date cannot be printed. */
const MAX_TIMESTAMP = 253_402_300_799_999

/**
 * Checks that a value parsed from JSON is a well-formed SignedOperation:
 * every field present with its type and size, no others. Signatures are
 * checked by verifyOperationSignatures; the log rules by applyOperation.
 */
export function parseOperation (raw: unknown, options: { replay?: boolean } = {}): SignedOperation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidOperation('it must be a JSON object')
  const o = raw as Record<string, unknown>
  const extra = Object.keys(o).find(k => !FIELDS.includes(k))
  if (extra != null) throw new InvalidOperation(`unknown field "${extra.slice(0, 40)}"`)
  if (o.v !== 1) throw new InvalidOperation('"v" must be 1')
  if (!OPERATION_KINDS.includes(o.op as OperationKind)) throw new InvalidOperation(`"op" must be one of ${OPERATION_KINDS.join(', ')}`)
  const str = (name: string, max: number): string => {
    const v = o[name]
    if (typeof v !== 'string') throw new InvalidOperation(`"${name}" must be a string`)
    if (v.length > max) throw new InvalidOperation(`"${name}" is longer than ${max} characters`)
    return v
  }
  const username = validateUsername(str('username', 64))
  const key = userIdField(str('key', MAX_KEY_CHARS), 'key')
  // a client replaying a log checks only the length: a character this Node's
  // Unicode tables do not know yet must not make a whole, signed log unreadable
  const displayName = options.replay === true ? str('displayName', DISPLAY_NAME_MAX * 2) : validateDisplayName(str('displayName', DISPLAY_NAME_MAX * 2))
  if (!Number.isSafeInteger(o.timestamp) || (o.timestamp as number) < 0 || (o.timestamp as number) > MAX_TIMESTAMP) throw new InvalidOperation('"timestamp" must be milliseconds since the epoch, before the year 10000')
  const nonce = str('nonce', 32)
  if (!HEX32.test(nonce)) throw new InvalidOperation('"nonce" must be 32 lower-case hex digits')
  const prev = str('prev', 64)
  if (prev !== '' && !HEX64.test(prev)) throw new InvalidOperation('"prev" must be empty or 64 lower-case hex digits')
  const signature = base64Field(str('signature', MAX_SIGNATURE_CHARS), 'signature')
  const op: SignedOperation = { v: 1, op: o.op as OperationKind, username, key, displayName, timestamp: o.timestamp as number, nonce, prev, signature }
  if (op.op === 'rotate') {
    op.oldKey = userIdField(str('oldKey', MAX_KEY_CHARS), 'oldKey')
    op.oldSignature = base64Field(str('oldSignature', MAX_SIGNATURE_CHARS), 'oldSignature')
    if (op.oldKey === op.key) throw new InvalidOperation('a rotation needs a new key different from the old one')
  } else if (o.oldKey !== undefined || o.oldSignature !== undefined) {
    throw new InvalidOperation('"oldKey" and "oldSignature" belong only to a rotate operation')
  }
  return op
}

/** A display name: NFC, at most 64 characters, no control or line-breaking characters. */
export function validateDisplayName (name: string): string {
  const problem = displayNameProblem(name)
  if (problem != null) throw new InvalidOperation(`"displayName" ${problem}`)
  return name
}

/** What is wrong with a display name, if anything (the CLI says it of --display-name before signing). */
export function displayNameProblem (name: string): string | undefined {
  const n = name.normalize('NFC')
  if ([...n].length > DISPLAY_NAME_MAX) return `is longer than ${DISPLAY_NAME_MAX} characters`
  if (/[\p{C}\p{Zl}\p{Zp}]/u.test(n)) return 'has a control or invisible formatting character'
  if (n !== name) return 'must be in Unicode NFC form'
}

/** The bytes both signatures cover: every field but the signatures, in a fixed order, domain-separated. */
export function signedBytes (op: SignedOperation): Buffer {
  return Buffer.from(DOMAIN + JSON.stringify([op.v, op.op, op.username, op.key, op.oldKey ?? '', op.displayName, op.timestamp, op.nonce, op.prev]))
}

/** The entry's hash, which the next entry's `prev` names; it covers the signatures too. */
export function operationHash (op: SignedOperation): string {
  const canonical = JSON.stringify([signedBytes(op).toString(), op.signature, op.oldSignature ?? ''])
  return createHash('sha256').update(canonical).digest('hex')
}

/** Throws BadSignature unless `key` (and for a rotation `oldKey`) signed the operation. */
export async function verifyOperationSignatures (op: SignedOperation): Promise<void> {
  const bytes = signedBytes(op)
  if (!await verifies(parseUserId(op.key), bytes, op.signature)) throw new BadSignature(op.op === 'rotate' ? 'new key\'s' : 'key\'s')
  if (op.op === 'rotate' && !await verifies(parseUserId(op.oldKey ?? ''), bytes, op.oldSignature ?? '')) throw new BadSignature('old key\'s')
}

export type UnsignedOperation = Omit<SignedOperation, 'signature' | 'oldSignature' | 'v' | 'nonce' | 'timestamp'> & { timestamp?: number, nonce?: string }

/** Signs an operation: with `key` alone, or for a rotation with the new key and the old one. */
export async function signOperation (fields: UnsignedOperation, signer: PrivateKey, oldSigner?: PrivateKey): Promise<SignedOperation> {
  const op: SignedOperation = {
    v: 1,
    ...fields,
    timestamp: fields.timestamp ?? Date.now(),
    nonce: fields.nonce ?? randomBytes(16).toString('hex'),
    signature: ''
  }
  if (op.oldKey === undefined) delete op.oldKey
  const bytes = signedBytes(op)
  op.signature = Buffer.from(await signer.sign(bytes)).toString('base64')
  if (op.op === 'rotate') {
    if (oldSigner == null) throw new InvalidOperation('a rotation must be signed by the old key too')
    op.oldSignature = Buffer.from(await oldSigner.sign(bytes)).toString('base64')
  }
  return op
}

async function verifies (id: UserId, bytes: Buffer, signature: string): Promise<boolean> {
  try {
    return await id.publicKey.verify(bytes, Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}

function userIdField (text: string, name: string): string {
  try {
    const id = parseUserId(text)
    if (id.text !== text) throw new InvalidOperation(`"${name}" must be a user ID in canonical form`)
    return text
  } catch (err) {
    if (err instanceof InvalidOperation) throw err
    throw new InvalidOperation(`"${name}" is not a user ID: ${(err as Error).message}`)
  }
}

/** Canonical base64 only: one encoding per signature, so an entry has one hash. */
function base64Field (text: string, name: string): string {
  if (!BASE64.test(text) || Buffer.from(text, 'base64').toString('base64') !== text) throw new InvalidOperation(`"${name}" must be canonical, padded base64`)
  return text
}
