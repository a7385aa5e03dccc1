import { Command, Option } from 'commander'
import { createKeyFile, fingerprint, IdentityExists, readPublicKey, userIdFromPublicKey, type KeyType } from '../../identity/index.js'
import { defaultConfig, ensureHome, homeMadePrivateNote, loadConfig, saveConfig } from '../../store/index.js'
import { existsSync } from 'node:fs'
import { cliProfile, passphraseFromEnv, withStore } from '../profile.js'

/** `cspace init` and `cspace id`. */
export function registerIdentityCommands (program: Command): void {
  program.command('init')
    .description('create this profile\'s identity (key pair) and print the user ID to share')
    .addOption(new Option('--key-type <type>', 'key type').choices(['ed25519', 'rsa']).default('ed25519'))
    .action(async (opts: { keyType: KeyType }) => {
      const paths = cliProfile()
      if (ensureHome(paths.home)) process.stderr.write(`cspace: ${homeMadePrivateNote(paths.home)}\n`)
      if (existsSync(paths.keyFile)) throw new IdentityExists(paths.keyFile)
      // the identity last: a failure before it (a full disk) leaves nothing that refuses a second `init`
      withStore(() => {}) // creates the database
      if (!existsSync(paths.config)) saveConfig(paths.config, defaultConfig())
      else loadConfig(paths.config)
      const key = await createKeyFile(paths.keyFile, opts.keyType, passphraseFromEnv())
      const id = userIdFromPublicKey(key.publicKey)
      process.stdout.write(`${id.text}\nfingerprint: ${fingerprint(key.publicKey)}\n`)
      process.stderr.write(`created an ${key.type} identity in ${paths.home}${passphraseFromEnv() != null ? ' (encrypted with CSPACE_PASSPHRASE)' : ''}; share the first line with your contacts\n`)
    })

  program.command('id')
    .description('print this user\'s ID (one token, first line) and fingerprint')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const publicKey = readPublicKey(cliProfile().keyFile)
      const id = userIdFromPublicKey(publicKey)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ userId: id.text, peerId: id.peerId.toString(), fingerprint: fingerprint(publicKey), keyType: publicKey.type }) + '\n')
      } else {
        process.stdout.write(`${id.text}\nfingerprint: ${fingerprint(publicKey)}\n`)
      }
    })
}
