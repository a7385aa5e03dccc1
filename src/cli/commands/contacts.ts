import { Command } from 'commander'
import { ContactBook } from '../../contacts/index.js'
import { withStore } from '../profile.js'
import { UsageError } from '../../errors.js'
import { addFromKeyServer, registerContactsVerify } from './contacts-keyserver.js'

/**
 * `cspace contacts`: the address book works with or without a running daemon;
 * SQLite is the point of concurrency, and the daemon reads contacts per use.
 */
export function registerContactsCommand (program: Command): void {
  const contacts = program.command('contacts').description('manage contacts: unique local names for users\' IDs')

  contacts.command('add <name> [id]')
    .description('add a contact by the ID they shared (`cspace id` on their side), or by their username on a key server')
    .option('--from-keyserver <username>', 'take the key from this username on the key server, verified and pinned')
    .option('--keyserver <url>', 'key server URL (default: "keyserver" in config.json)')
    .action(async (name: string, id: string | undefined, opts: { fromKeyserver?: string, keyserver?: string }) => {
      if (opts.fromKeyserver != null) {
        if (id != null) throw new UsageError('give either an ID or --from-keyserver USERNAME, not both')
        await addFromKeyServer(name, opts.fromKeyserver, opts.keyserver)
        return
      }
      if (id == null) throw new UsageError('give the contact\'s ID (`cspace id` on their side) or --from-keyserver USERNAME')
      withStore((store) => {
        const c = new ContactBook({ store }).add(name, id)
        process.stdout.write(`added ${c.name}\nfingerprint: ${c.fingerprint}\n`)
      })
    })

  registerContactsVerify(contacts)

  contacts.command('list')
    .description('list contacts')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => withStore((store) => {
      const list = new ContactBook({ store }).list()
      if (opts.json === true) { process.stdout.write(JSON.stringify(list) + '\n'); return }
      if (list.length === 0) { process.stdout.write('no contacts yet; add one with `cspace contacts add NAME ID`\n'); return }
      for (const c of list) process.stdout.write(`${c.name}\t${c.fingerprint}\t${c.userId}\n`)
    }))

  contacts.command('remove <name>')
    .description('remove a contact')
    .action((name: string) => withStore((store) => {
      const c = new ContactBook({ store }).remove(name)
      process.stdout.write(`removed ${c.name}\n`)
    }))

  contacts.command('rename <old> <new>')
    .description('give a contact another name')
    .action((oldName: string, newName: string) => withStore((store) => {
      const c = new ContactBook({ store }).rename(oldName, newName)
      process.stdout.write(`renamed ${oldName} to ${c.name}\n`)
    }))
}
