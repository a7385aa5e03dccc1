import { existsSync } from 'node:fs'
import type { PrivateKey } from '@libp2p/interface'
import { CspaceError, UsageError } from '../errors.js'
import { fingerprint, readKeyFile, userIdFromPublicKey } from '../identity/index.js'
import { keyserverUrlProblem, loadConfig } from '../store/index.js'
import { KeyServerClient, verifyEntry, type VerifiedEntry } from '../keyserver/client/index.js'
import { UntrustworthyAnswer, operationHash, parseOperation, type SignedOperation } from '../keyserver/index.js'
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

/**
 * The entry of the username this profile's key holds, confirmed as the head
 * of its name's log (so the next operation is signed on the real head, never
 * on a stale one a server chose to show); throws NOT_REGISTERED if none.
 */
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
  await client.confirmCurrent(mine)
  return mine
}

/** Checks the server's answer to a write: the entry it made must rest on the very operation sent. */
export function confirmSameOperation (client: KeyServerClient, op: SignedOperation, answer: unknown): void {
  const got = (answer as { operation?: SignedOperation } | undefined)?.operation
  let same = false
  try {
    same = got != null && operationHash(parseOperation(got, { replay: true })) === operationHash(op)
  } catch {}
  if (!same) throw new UntrustworthyAnswer(`${client.url} accepted the write but answered with another entry`)
}

/** confirmSameOperation, and the entry checked as any lookup's (for a write that leaves a key holding the name). */
export async function confirmWrite (client: KeyServerClient, op: SignedOperation, answer: unknown): Promise<VerifiedEntry> {
  confirmSameOperation(client, op, answer)
  return await verifyEntry(answer)
}

/** "alice (Alice Liddell)" or just "alice". */
export function describeEntry (e: { username: string, displayName: string }): string {
  return e.displayName !== '' ? `${e.username} (${e.displayName})` : e.username
}
