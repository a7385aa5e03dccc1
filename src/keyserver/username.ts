import { InvalidSearchPrefix, InvalidUsername } from './errors.js'

export const USERNAME_MIN = 3
export const USERNAME_MAX = 32
const ALLOWED = /^[a-z0-9._-]+$/
const ENDS = /^[a-z0-9](.*[a-z0-9])?$/

/**
 * Checks a username against the rules and returns it; throws InvalidUsername
 * saying which rule failed. Separators must sit between letters or digits, so
 * "alice-" and "a..b" cannot pose as "alice" and "a.b".
 */
export function validateUsername (name: string): string {
  if (name.length < USERNAME_MIN) throw new InvalidUsername(name, `it is shorter than ${USERNAME_MIN} characters`)
  if (name.length > USERNAME_MAX) throw new InvalidUsername(name, `it is longer than ${USERNAME_MAX} characters`)
  if (/[A-Z]/.test(name)) throw new InvalidUsername(name, 'it has capital letters; usernames are lower case')
  if (!ALLOWED.test(name)) throw new InvalidUsername(name, 'it has a character other than a-z, 0-9, \'-\', \'_\' or \'.\'')
  if (!ENDS.test(name)) throw new InvalidUsername(name, 'it must start and end with a letter or digit')
  if (/[._-]{2}/.test(name)) throw new InvalidUsername(name, 'it has two separators in a row')
  return name
}

/**
 * The form two usernames share when a reader could mistake one for the other:
 * 0/o, 1/l/i, rn/m, vv/w, cl/d, and the separators - _ . are folded together.
 * The key server keeps at most one live username per skeleton.
 */
export function usernameSkeleton (name: string): string {
  // single characters first, so that "c1ear" folds to "clear" and then with it to "dear"
  return name
    .replace(/[._-]/g, '-')
    .replace(/0/g, 'o')
    .replace(/[1i]/g, 'l')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/cl/g, 'd')
}

/** Checks a search prefix: 1-32 characters of the username alphabet. */
export function validateUsernamePrefix (prefix: string): string {
  if (prefix.length < 1) throw new InvalidSearchPrefix('a search prefix', prefix, 'it is empty; give the first letters of a username')
  return checkSearchName('a search prefix', prefix)
}

/** Checks where a search page continues: empty (the first page) or up to 32 characters of the username alphabet. */
export function validateSearchAfter (after: string): string {
  return after === '' ? after : checkSearchName('a username to continue after', after)
}

function checkSearchName (what: string, value: string): string {
  if (value.length > USERNAME_MAX) throw new InvalidSearchPrefix(what, value, `it is longer than ${USERNAME_MAX} characters`)
  if (/[A-Z]/.test(value) && ALLOWED.test(value.toLowerCase())) throw new InvalidSearchPrefix(what, value, `usernames are lower case (try "${value.toLowerCase()}")`)
  if (!ALLOWED.test(value)) throw new InvalidSearchPrefix(what, value, 'use a-z, 0-9, \'-\', \'_\' and \'.\', as usernames do')
  return value
}
