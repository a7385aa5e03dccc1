import type { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { ContactBook } from '../../contacts/index.js'
import { addContactFromKeyServer, verifyPinnedContact, type UseBook } from '../../keyserver/client/index.js'
import { keyServerClient } from '../keyserver-access.js'
import { tellDaemonStoreChanged, withStore } from '../profile.js'

/** `contacts add NAME --from-keyserver USERNAME`: verified, pinned (keyserver/client/contact-pins.ts). */
export async function addFromKeyServer (name: string, username: string, keyserver?: string): Promise<void> {
  const client = keyServerClient(keyserver)
  const { contact: c, entry } = await addContactFromKeyServer(useBook, client, name, username)
  await tellDaemonStoreChanged()
  process.stdout.write(`added ${c.name} (${entry.username}${entry.displayName !== '' ? `, ${entry.displayName}` : ''} on ${client.url})\nfingerprint: ${c.fingerprint}\n`)
  process.stderr.write(`compare this fingerprint with ${c.name} in person or by phone: it proves the key is theirs, which no key server can\n`)
}

/** The CLI opens the profile's store for each use of the contact book. */
const useBook: UseBook = (fn) => withStore(store => fn(new ContactBook({ store })))

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
        const line = await verifyPinnedContact(useBook, c, opts.accept === true).catch((err: Error) => ({ ok: false, text: `could not check: ${err.message.split('\n')[0]}` }))
        process.stdout.write(`${c.name}: ${line.text}\n`)
        if (!line.ok) attention = true
      }
      await tellDaemonStoreChanged() // a pin moved forward, or a key accepted
      if (attention) process.exitCode = 1
    })
}
