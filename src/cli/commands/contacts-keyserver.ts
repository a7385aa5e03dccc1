import type { Command } from 'commander'
import { CspaceError, UsageError } from '../../errors.js'
import { ContactBook, type Contact, type ContactPin } from '../../contacts/index.js'
import { fingerprint, parseUserId } from '../../identity/index.js'
import { KeyServerClient, checkPin, type PinCheck } from '../../keyserver/client/index.js'
import { keyServerClient } from '../keyserver-access.js'
import { withStore } from '../profile.js'

/**
 * Adds a contact from a key server: the entry is verified, the name's whole
 * log replayed, and the contact pins the key at the log's head, so that any
 * later change is seen by `cspace contacts verify`, never applied silently.
 */
export async function addContactFromKeyServer (name: string, username: string, keyserver?: string): Promise<void> {
  const client = keyServerClient(keyserver)
  const entry = await client.lookup(username)
  const { replayed } = await client.confirmCurrent(entry)
  const pin: ContactPin = { url: client.url, username: entry.username, seq: replayed.hashes.length - 1, hash: replayed.state.head }
  const c = withStore(store => new ContactBook({ store }).add(name, entry.key, pin))
  process.stdout.write(`added ${c.name} (${entry.username}${entry.displayName !== '' ? `, ${entry.displayName}` : ''} on ${client.url})\nfingerprint: ${c.fingerprint}\n`)
  process.stderr.write(`compare this fingerprint with ${c.name} in person or by phone: it proves the key is theirs, which no key server can\n`)
}

/** `cspace contacts verify [NAME] [--accept]`. */
export function registerContactsVerify (contacts: Command): void {
  contacts.command('verify [name]')
    .description('check contacts added from a key server against it now; reports any key change (exit 1), never applies one')
    .option('--accept', 'switch NAME to the new key of a rotation its pinned key signed')
    .action(async (name: string | undefined, opts: { accept?: boolean }) => {
      if (opts.accept === true && name == null) throw new UsageError('--accept needs the contact\'s name: accept one change at a time')
      const list = withStore(store => {
        const book = new ContactBook({ store })
        return name != null ? [book.get(name)] : book.list().filter(c => c.keyserver != null)
      })
      if (name != null && list[0].keyserver == null) throw new UsageError(`${list[0].name} was added by ID, not from a key server; compare fingerprints with them to verify`, 'NOT_FROM_KEYSERVER')
      if (list.length === 0) { process.stdout.write('no contacts were added from a key server\n'); return }
      let attention = false
      for (const c of list) {
        // one contact's server (hostile, down, or a clash) never keeps the others from being checked
        const line = await verifyContact(c, opts.accept === true).catch((err: Error) => ({ ok: false, text: `could not check: ${err.message.split('\n')[0]}` }))
        process.stdout.write(`${c.name}: ${line.text}\n`)
        if (!line.ok) attention = true
      }
      if (attention) process.exitCode = 1
    })
}

async function verifyContact (c: Contact, accept: boolean): Promise<{ ok: boolean, text: string }> {
  const pin = c.keyserver as ContactPin
  const client = new KeyServerClient(pin.url)
  let check: PinCheck
  try {
    const { log, replayed } = await client.history(pin.username)
    check = checkPin({ ...pin, key: c.userId }, log, replayed)
  } catch (err) {
    if (err instanceof CspaceError && err.code === 'USERNAME_NOT_FOUND') check = { kind: 'rewritten' }
    else return { ok: false, text: `could not check: ${(err as Error).message}` }
  }
  const where = `"${pin.username}" on ${pin.url}`
  const repin = (head: { seq: number, hash: string }, key?: string): Contact =>
    withStore(store => new ContactBook({ store }).repin(c.name, pin, { ...pin, ...head }, key))
  switch (check.kind) {
    case 'unchanged':
      if (check.repin) repin(check.head) // the log grew (a display name, say); the key it vouches for is the same
      return { ok: true, text: `ok: ${where} still holds the key you pinned (fingerprint ${c.fingerprint})` }
    case 'rotated': {
      const print = fingerprint(parseUserId(check.key).publicKey)
      if (accept) {
        repin(check.head, check.key)
        return { ok: true, text: `now using the new key of ${where} (fingerprint ${print})` }
      }
      return { ok: false, text: `KEY CHANGED on ${day(check.at)}: ${where} moved to a new key, signed by the key you pinned; new fingerprint ${print}. Run \`cspace contacts verify ${c.name} --accept\` to use it` }
    }
    case 'deleted':
      return { ok: false, text: `DELETED: the owner of ${where} deleted it on ${day(check.at)}${check.rotatedAway ? ', after moving it away from the key you pinned' : ''}; the contact keeps the key you pinned` }
    case 'replaced':
      return { ok: false, text: `WARNING: ${where} now belongs to a different key (since ${day(check.at)}) that your pinned key never signed for. Keep the pinned key; if ${c.name} really lost theirs, compare the new fingerprint with them before adding it` }
    case 'rewritten':
      return { ok: false, text: `WARNING: the key server's history of "${pin.username}" no longer holds the entry you pinned: it has rewritten history. Do not trust ${pin.url}; the contact keeps the key you pinned` }
  }
}

function day (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}
