import { Command, Option } from 'commander'
import { CspaceError, UsageError } from '../../errors.js'
import { fingerprint, parseUserId, userIdFromPublicKey, type KeyType } from '../../identity/index.js'
import { displayNameProblem, KeyNotFound, NameTaken, UntrustworthyAnswer, operationHash, signOperation, validateUsername, type SignedOperation } from '../../keyserver/index.js'
import type { KeyServerClient, VerifiedEntry } from '../../keyserver/client/index.js'
import { confirmSameOperation, confirmWrite, describeEntry, keyServerClient, ownEntry, profileKey } from '../keyserver-access.js'
import { addKeyServerServe } from './keyserver-serve.js'
import { rotateProfileKey } from './keyserver-rotate.js'

const keyserverOption = (): Option => new Option('--keyserver <url>', 'key server URL (default: "keyserver" in config.json)')

/** `cspace keyserver …`: run a key server, or publish and find keys on one. */
export function registerKeyServerCommands (program: Command): void {
  const ks = program.command('keyserver')
    .description('run a key server (no subcommand), or publish and find users\' keys by username')
  addKeyServerServe(ks)

  ks.command('register <username>')
    .description('register a username for this profile\'s key (first come, first served)')
    .option('--display-name <name>', 'a name shown next to the username', '')
    .addOption(keyserverOption())
    .action(async (username: string, opts: { displayName: string, keyserver?: string }) => {
      const client = keyServerClient(opts.keyserver)
      const name = validateUsername(username)
      const key = profileKey()
      const state = (await historyOrNone(client, name))?.replayed.state
      if (state?.key != null) throw new NameTaken(name)
      const op = await signOperation({ op: 'register', username: name, key: userIdFromPublicKey(key.publicKey).text, displayName: displayNameOption(opts.displayName), prev: state?.head ?? '' }, key)
      const entry = await confirmWrite(client, op, await client.submit(op))
      process.stdout.write(`registered ${describeEntry(entry)} on ${client.url}\nfingerprint: ${entry.fingerprint}\n`)
    })

  ks.command('lookup <query>')
    .description('find a user by username, fingerprint or user ID; the answer is verified before it is shown')
    .option('--history', 'also show every change to the name, oldest first')
    .option('--json', 'machine-readable output')
    .addOption(keyserverOption())
    .action(async (query: string, opts: { history?: boolean, json?: boolean, keyserver?: string }) => {
      const client = keyServerClient(opts.keyserver)
      let entries: VerifiedEntry[]
      try {
        entries = await lookupAny(client, query.trim())
      } catch (err) {
        // a deleted name has no holder, but its history is still there to read
        if (opts.history === true && (err as CspaceError).code === 'USERNAME_DELETED') { await printDeletedHistory(client, query.trim(), opts.json === true); return }
        throw err
      }
      const histories = opts.history === true ? await Promise.all(entries.map(async e => await client.history(e.username))) : []
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(entries.map((e, i) => ({ username: e.username, displayName: e.displayName, userId: e.key, fingerprint: e.fingerprint, history: histories[i]?.log }))) + '\n')
        return
      }
      for (const [i, e] of entries.entries()) {
        process.stdout.write(`${describeEntry(e)}\nid: ${e.key}\nfingerprint: ${e.fingerprint}\n`)
        if (histories[i] != null) printHistory(histories[i].log)
      }
    })

  ks.command('search <prefix>')
    .description('list usernames that start with a prefix, a page at a time')
    .option('--after <username>', 'continue after this username (the last of the previous page)', '')
    .option('--limit <n>', 'entries per page (1-100)', '20')
    .option('--json', 'machine-readable output')
    .addOption(keyserverOption())
    .action(async (prefix: string, opts: { after: string, limit: string, json?: boolean, keyserver?: string }) => {
      const limit = Number(opts.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError(`--limit ${opts.limit} must be an integer from 1 to 100`)
      const client = keyServerClient(opts.keyserver)
      const page = await client.search(prefix.trim(), opts.after, limit)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ users: page.users.map(e => ({ username: e.username, displayName: e.displayName, userId: e.key, fingerprint: e.fingerprint })), next: page.next }) + '\n')
        return
      }
      if (page.users.length === 0) process.stderr.write(`no usernames start with "${prefix}"${opts.after !== '' ? ` after "${opts.after}"` : ''}\n`)
      for (const e of page.users) process.stdout.write(`${e.username}\t${e.displayName}\t${e.fingerprint}\n`)
      if (page.next != null) {
        const flags = [opts.keyserver != null ? ` --keyserver ${opts.keyserver}` : '', opts.limit !== '20' ? ` --limit ${limit}` : ''].join('')
        process.stderr.write(`more: cspace keyserver search ${prefix} --after ${page.next}${flags}\n`)
      }
    })

  ks.command('update')
    .description('change the display name of this profile\'s username')
    .requiredOption('--display-name <name>', 'the new display name ("" for none)')
    .addOption(keyserverOption())
    .action(async (opts: { displayName: string, keyserver?: string }) => {
      const client = keyServerClient(opts.keyserver)
      const key = profileKey()
      const mine = await ownEntry(client, key)
      const op = await signOperation({ op: 'update', username: mine.username, key: mine.key, displayName: displayNameOption(opts.displayName), prev: operationHash(mine.operation) }, key)
      const entry = await confirmWrite(client, op, await client.submit(op))
      process.stdout.write(`updated ${describeEntry(entry)}\n`)
    })

  ks.command('rotate')
    .description('replace this profile\'s key with a new one, signed over by the old key on the key server')
    .addOption(new Option('--key-type <type>', 'type of the new key').choices(['ed25519', 'rsa']).default('ed25519'))
    .addOption(keyserverOption())
    .action(async (opts: { keyType: KeyType, keyserver?: string }) => await rotateProfileKey(keyServerClient(opts.keyserver), opts.keyType))

  ks.command('delete')
    .description('delete this profile\'s username; its history stays public, and the name becomes free')
    .option('--yes', 'confirm: anyone may take the name afterwards')
    .addOption(keyserverOption())
    .action(async (opts: { yes?: boolean, keyserver?: string }) => {
      const client = keyServerClient(opts.keyserver)
      const key = profileKey()
      const mine = await ownEntry(client, key)
      if (opts.yes !== true) throw new UsageError(`deleting "${mine.username}" frees it for anyone to take; run again with --yes to confirm`, 'CONFIRM')
      const op = await signOperation({ op: 'delete', username: mine.username, key: mine.key, displayName: '', prev: operationHash(mine.operation) }, key)
      confirmSameOperation(client, op, await client.submit(op))
      process.stdout.write(`deleted ${mine.username}\n`)
    })
}

/** A name's history, or undefined if the name was never registered. */
async function historyOrNone (client: KeyServerClient, username: string): Promise<Awaited<ReturnType<KeyServerClient['history']>> | undefined> {
  try {
    return await client.history(username)
  } catch (err) {
    if (err instanceof CspaceError && err.code === 'USERNAME_NOT_FOUND') return undefined
    throw err
  }
}

/** A username, a fingerprint (30 digits) or a user ID (cs1…); each answer must be the head of its name's log. */
async function lookupAny (client: KeyServerClient, query: string): Promise<VerifiedEntry[]> {
  let entries: VerifiedEntry[]
  const digits = query.replace(/\D/g, '').length
  // digits in groups are a fingerprint (a username has no spaces), whether or not all 30 are there
  if (/^[\d\s-]+$/.test(query) && (digits === 30 || /\s/.test(query))) {
    if (digits !== 30) throw new UsageError(`a fingerprint has 30 digits; this one has ${digits}: copy it again from \`cspace id\` on their side`, 'INVALID_FINGERPRINT')
    entries = await client.byFingerprint(query)
  } else if (query.toLowerCase().startsWith('cs1')) {
    const id = parseUserId(query)
    entries = (await client.byFingerprint(fingerprint(id.publicKey))).filter(e => e.key === id.text)
    if (entries.length === 0) throw new KeyNotFound()
  } else {
    entries = [await client.lookup(query)]
  }
  for (const e of entries) await client.confirmCurrent(e)
  return entries
}

/** `lookup NAME --history` of a deleted name: the whole log, checked, ending in its delete. */
async function printDeletedHistory (client: KeyServerClient, name: string, json: boolean): Promise<void> {
  const { log, replayed } = await client.history(name)
  // the server said deleted; the log, checked link by link, must say so too
  if (replayed.state.key != null) throw new UntrustworthyAnswer(`"${name}" was said to be deleted, but its log ends with a key holding it`)
  if (json) { process.stdout.write(JSON.stringify([{ username: name, deleted: true, history: log }]) + '\n'); return }
  process.stdout.write(`${name} (deleted by its owner: no key holds it)\n`)
  printHistory(log)
}

function printHistory (log: readonly SignedOperation[]): void {
  process.stdout.write(`history (${log.length} entries, every one verified):\n`)
  for (const [seq, op] of log.entries()) {
    const what = op.op === 'update' ? `display name "${op.displayName}"` : op.op === 'delete' ? '' : `key ${fingerprint(parseUserId(op.key).publicKey)}`
    process.stdout.write(`  ${seq}\t${new Date(op.timestamp).toISOString()}\t${op.op}\t${what}\n`)
  }
}

/** --display-name, NFC, checked before anything is signed or sent. */
function displayNameOption (value: string): string {
  const name = value.normalize('NFC')
  const problem = displayNameProblem(name)
  if (problem != null) throw new UsageError(`--display-name ${problem}`, 'INVALID_DISPLAY_NAME')
  return name
}
