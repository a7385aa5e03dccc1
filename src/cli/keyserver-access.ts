import { existsSync } from 'node:fs'
import type { PrivateKey } from '@libp2p/interface'
import { CspaceError, UsageError } from '../errors.js'
import { fingerprint, readKeyFile, userIdFromPublicKey } from '../identity/index.js'
import { keyserverUrlProblem, loadConfig } from '../store/index.js'
import { KeyServerClient, type VerifiedEntry } from '../keyserver/client/index.js'
import { cliProfile, passphraseFromEnv } from './profile.js'

/** The key server a command uses: --keyserver, else config.json's "keyserver". */
export function keyServerClient (flag?: string): KeyServerClient {
  const paths = cliProfile()
  const url = flag ?? (existsSync(paths.config) ? loadConfig(paths.config).keyserver : undefined)
  if (url == null) throw new UsageError('no key server set: pass --keyserver URL, or set "keyserver" in config.json', 'NO_KEYSERVER')
  const why = keyserverUrlProblem(url)
  if (why != null) throw new UsageError(`--keyserver ${why}`, 'BAD_KEYSERVER_URL')
  return new KeyServerClient(url)
}

/** This profile's private key, for signing (CSPACE_PASSPHRASE if it is encrypted). */
export function profileKey (): PrivateKey {
  return readKeyFile(cliProfile().keyFile, passphraseFromEnv())
}

/** The entry of the username this profile's key holds; throws NOT_REGISTERED if it holds none. */
export async function ownEntry (client: KeyServerClient, key: PrivateKey): Promise<VerifiedEntry> {
  const notRegistered = new CspaceError('NOT_REGISTERED', `this profile's key holds no username on ${client.url}; register one with \`cspace keyserver register USERNAME\``, 2)
  let found: VerifiedEntry[]
  try {
    found = await client.byFingerprint(fingerprint(key.publicKey))
  } catch (err) {
    if ((err as { code?: string }).code === 'KEY_NOT_FOUND') throw notRegistered
    throw err
  }
  const mine = found.find(e => e.key === userIdFromPublicKey(key.publicKey).text)
  if (mine == null) throw notRegistered
  return mine
}

/** "alice (Alice Liddell)" or just "alice". */
export function describeEntry (e: { username: string, displayName: string }): string {
  return e.displayName !== '' ? `${e.username} (${e.displayName})` : e.username
}
