import { Command } from 'commander'
import { ContactBook, refuseOwnId } from '../../contacts/index.js'
import { cliProfile, daemonRunning, tellDaemonStoreChanged, withStore } from '../profile.js'
import { existsSync } from 'node:fs'
import { readPublicKey, userIdFromPublicKey } from '../../identity/index.js'
import { ForwardTable } from '../../store/index.js'
import { RuleBook } from '../../session/rule-book.js'
import { LocalApiClient } from '../../sdk/index.js'
import { renameContactEverywhere, stillNaming } from '../../daemon/contact-rename.js'
import { UsageError } from '../../errors.js'
import { addFromKeyServer, registerContactsVerify } from './contacts-keyserver.js'

/**
 * `cspace contacts`: the address book works with or without a running daemon;
 * SQLite is the point of concurrency, and the daemon reads contacts per use.
 * Removing and renaming go through the daemon when it runs: a rename moves
 * the contact's rules, which the daemon holds in memory.
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
      refuseOwnIdHere(id)
      const c = withStore((store) => new ContactBook({ store }).add(name, id))
      await tellDaemonStoreChanged()
      process.stdout.write(`added ${c.name}\nfingerprint: ${c.fingerprint}\n`)
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
    .description('remove a contact (rules and forwards that name them stay, for whoever is given the name next)')
    .action(async (name: string) => {
      const { name: removed, stillNamedBy } = daemonRunning()
        ? await new LocalApiClient().delete<{ name: string, stillNamedBy: { rules: number, forwards: number } }>(`/v1/contacts/${encodeURIComponent(name)}`)
        : withStore((store) => {
          const c = new ContactBook({ store }).remove(name)
          return { name: c.name, stillNamedBy: stillNaming({ rules: new RuleBook({ store }), forwards: new ForwardTable(store) }, c.name) }
        })
      process.stdout.write(`removed ${removed}\n`)
      const { rules, forwards } = stillNamedBy
      if (rules + forwards > 0) {
        process.stderr.write(`cspace: ${plural(rules, 'rule')} and ${plural(forwards, 'forward')} still name ${removed} and will apply to whoever you next call ${removed}; see \`cspace rules list\` and \`cspace status\`\n`)
      }
    })

  contacts.command('rename <old> <new>')
    .description('give a contact another name; their rules and forwards follow')
    .action(async (oldName: string, newName: string) => {
      // through the daemon when it runs: it holds the rules and forwards in memory
      const { name, moved } = daemonRunning()
        ? await new LocalApiClient().post<{ name: string, moved: { rules: number, forwards: number } }>(`/v1/contacts/${encodeURIComponent(oldName)}/rename`, { newName })
        : withStore((store) => {
          const r = renameContactEverywhere({ store, contacts: new ContactBook({ store }), rules: new RuleBook({ store }), forwards: new ForwardTable(store) }, oldName, newName)
          return { name: r.contact.name, moved: { rules: r.rules, forwards: r.forwards } }
        })
      const followed = moved.rules + moved.forwards > 0 ? ` (${plural(moved.rules, 'rule')} and ${plural(moved.forwards, 'forward')} follow)` : ''
      process.stdout.write(`renamed ${oldName} to ${name}${followed}\n`)
    })
}

function plural (n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

/** Refuses your own ID before it is stored, when this profile has a key to compare with. */
function refuseOwnIdHere (id: string): void {
  const keyFile = cliProfile().keyFile
  if (existsSync(keyFile)) refuseOwnId(id, userIdFromPublicKey(readPublicKey(keyFile)).peerId)
}
