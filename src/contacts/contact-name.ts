import { looksLikeUserId } from '../identity/index.js'
import { InvalidContactName } from './errors.js'

const NAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u

/** Checks and normalises (NFC) a contact name. */
export function validateContactName (name: string): string {
  const n = name.normalize('NFC')
  if (n.length === 0) throw new InvalidContactName(name, 'it is empty')
  if (looksLikeUserId(n)) throw new InvalidContactName(name, 'it looks like a user ID')
  if (!NAME.test(n)) throw new InvalidContactName(name, 'it has characters outside the allowed set, or is too long')
  return n
}

/** The form in which names must be unique: NFC, case-folded. */
export function contactNameKey (name: string): string {
  return name.normalize('NFC').toLowerCase()
}
