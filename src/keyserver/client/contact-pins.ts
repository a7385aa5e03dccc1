import { CspaceError } from '../../errors.js'
import type { Contact, ContactBook, ContactPin } from '../../contacts/index.js'
import { fingerprint, parseUserId } from '../../identity/index.js'
import { KeyServerClient, type VerifiedEntry } from './key-server-client.js'
import { checkPin, type PinCheck } from './key-pin.js'

/**
 * Contacts taken from a key server, pinned, and checked against it later:
 * what `cspace contacts add --from-keyserver` / `contacts verify` do, and the
 * daemon's API for the web UI. The contact book is reached through `useBook`
 * (the CLI opens the store per use; the daemon has one open), never held
 * across a network round trip.
 */
export type UseBook = <T>(fn: (book: ContactBook) => T) => T

/**
 * The entry is verified, the name's whole log replayed, and the contact pins
 * the key at the log's head, so that any later change is seen by a check,
 * never applied silently.
 */
export async function addContactFromKeyServer (useBook: UseBook, client: KeyServerClient, name: string, username: string): Promise<{ contact: Contact, entry: VerifiedEntry }> {
  const entry = await client.lookup(username)
  const { replayed } = await client.confirmCurrent(entry)
  const pin: ContactPin = { url: client.url, username: entry.username, seq: replayed.hashes.length - 1, hash: replayed.state.head }
  return { contact: useBook(book => book.add(name, entry.key, pin)), entry }
}

/** What a check of one contact found; `ok: false` needs the user's attention. */
export interface PinVerdict {
  name: string
  ok: boolean
  kind: PinCheck['kind'] | 'unreachable'
  text: string
  /** The fingerprint of the key the name moved to (rotated, replaced). */
  newFingerprint?: string
}

/** Checks a pinned contact against its key server now; with `accept`, follows a rotation its pinned key signed. */
export async function verifyPinnedContact (useBook: UseBook, c: Contact, accept: boolean): Promise<PinVerdict> {
  const pin = c.keyserver as ContactPin
  const verdict = (ok: boolean, kind: PinVerdict['kind'], text: string, newFingerprint?: string): PinVerdict => ({ name: c.name, ok, kind, text, ...(newFingerprint != null ? { newFingerprint } : {}) })
  const client = new KeyServerClient(pin.url)
  let check: PinCheck
  try {
    const { log, replayed } = await client.history(pin.username)
    check = checkPin({ ...pin, key: c.userId }, log, replayed)
  } catch (err) {
    if (err instanceof CspaceError && err.code === 'USERNAME_NOT_FOUND') check = { kind: 'rewritten' }
    else return verdict(false, 'unreachable', `could not check: ${(err as Error).message.split('\n')[0]}`)
  }
  const where = `"${pin.username}" on ${pin.url}`
  const repin = (head: { seq: number, hash: string }, key?: string): Contact => useBook(book => book.repin(c.name, pin, { ...pin, ...head }, key))
  switch (check.kind) {
    case 'unchanged':
      if (check.repin) repin(check.head) // the log grew (a display name, say); the key it vouches for is the same
      return verdict(true, 'unchanged', `ok: ${where} still holds the key you pinned (fingerprint ${c.fingerprint})`)
    case 'rotated': {
      const print = fingerprint(parseUserId(check.key).publicKey)
      if (accept) {
        repin(check.head, check.key)
        return verdict(true, 'rotated', `now using the new key of ${where} (fingerprint ${print})`, print)
      }
      return verdict(false, 'rotated', `KEY CHANGED on ${day(check.at)}: ${where} moved to a new key, signed by the key you pinned; new fingerprint ${print}. Run \`cspace contacts verify ${c.name} --accept\` to use it`, print)
    }
    case 'deleted':
      return verdict(false, 'deleted', `DELETED: the owner of ${where} deleted it on ${day(check.at)}${check.rotatedAway ? ', after moving it away from the key you pinned' : ''}; the contact keeps the key you pinned`)
    case 'replaced': {
      const print = fingerprint(parseUserId(check.key).publicKey)
      return verdict(false, 'replaced', `WARNING: ${where} now belongs to a different key (since ${day(check.at)}) that your pinned key never signed for; its fingerprint is ${print}. Keep the pinned key; if ${c.name} really lost theirs, compare that fingerprint with them before adding it`, print)
    }
    case 'rewritten':
      return verdict(false, 'rewritten', `WARNING: the key server's history of "${pin.username}" no longer holds the entry you pinned: it has rewritten history. Do not trust ${pin.url}; the contact keeps the key you pinned`)
  }
}

function day (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}
