import { printable } from './printable.js'

/**
 * A value a peer sent, as an error message may quote it: a string (cut to
 * `max` characters, made printable) or a scalar as itself, never a list or an
 * object, which may be nested too deep for JSON.stringify or String() to
 * print (a RangeError instead of the error meant for the user).
 */
export function describeWireValue (value: unknown, max = 64): string {
  if (typeof value === 'string') return JSON.stringify(printable(value.slice(0, max)))
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value)
  return Array.isArray(value) ? '(a list)' : `(${typeof value === 'object' ? 'an object' : `a ${typeof value}`})`
}
