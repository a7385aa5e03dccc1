import { looksLikeUserId } from '../identity/index.js'
import { InvalidContactName } from './errors.js'

const MAX_LENGTH = 64
/** The words a permission rule uses for groups: a contact of that name would make "allow anyone files" ambiguous. */
const RESERVED = new Set(['anyone', 'contacts'])
const FIRST = /^[\p{L}\p{N}]/u
// Marks (\p{M}) are allowed after the first character: many scripts need combining signs.
const ALLOWED = /^[\p{L}\p{M}\p{N}._-]$/u

/** Checks a contact name and returns its NFC form; throws InvalidContactName saying which rule failed. */
export function validateContactName (name: string): string {
  const n = name.normalize('NFC')
  const chars = [...n] // code points, so a non-BMP letter counts once
  if (chars.length === 0) throw new InvalidContactName(name, 'it is empty')
  if (chars.length > MAX_LENGTH) throw new InvalidContactName(name, `it is longer than ${MAX_LENGTH} characters`)
  if (looksLikeUserId(n)) throw new InvalidContactName(name, 'it looks like a user ID; give the contact a short name instead')
  if (RESERVED.has(contactNameKey(n))) throw new InvalidContactName(name, `"${n.toLowerCase()}" is a word of the permission rules (anyone, contacts); choose another name`)
  if (!FIRST.test(n)) throw new InvalidContactName(name, 'it must start with a letter or digit')
  const bad = chars.find(c => !ALLOWED.test(c))
  if (bad != null) throw new InvalidContactName(name, `${describeChar(bad)} is not allowed`)
  return n
}

/**
 * Scripts whose letters pass for one another (Latin o, Cyrillic о, Greek ο):
 * "bοb" with a Greek omicron would sit beside "bob" in every list and prompt.
 */
const LOOKALIKE_SCRIPTS: Array<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u], ['Greek', /\p{Script=Greek}/u], ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Armenian', /\p{Script=Armenian}/u], ['Cherokee', /\p{Script=Cherokee}/u]
]

/**
 * validateContactName, and for a name being given now (add, rename) also
 * one script of those whose letters look alike. Names stored before this
 * rule, and rules naming them, still parse with validateContactName.
 */
export function validateNewContactName (name: string): string {
  const n = validateContactName(name)
  if (ASCII.test(n)) return n
  const used = LOOKALIKE_SCRIPTS.filter(([, letters]) => letters.test(n)).map(([script]) => script)
  if (used.length > 1) throw new InvalidContactName(name, `it mixes ${used.join(' and ')} letters, which can look the same; write it in one of them`)
  return n
}

/** The form in which names must be unique: NFC, lower-cased. */
export function contactNameKey (name: string): string {
  // ASCII is its own NFC; normalize() goes through ICU even then, on every connect
  return ASCII.test(name) ? name.toLowerCase() : name.normalize('NFC').toLowerCase()
}

const ASCII = /^[\x00-\x7f]*$/ // eslint-disable-line no-control-regex

function describeChar (c: string): string {
  const code = `U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '?'}`
  return /^[\p{C}\p{Zl}\p{Zp}]$/u.test(c) ? code : `"${c}" (${code})` // control characters by code only
}
